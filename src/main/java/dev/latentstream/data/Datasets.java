package dev.latentstream.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Finds and loads datasets. A name ({@code mnist}, {@code fashion-mnist}) is looked up in order in
 * {@code --data-dir/<name>}, {@code ./data/<name>} and {@code /usr/share/datasets/<name>} (where
 * Debian's {@code dataset-fashion-mnist} installs); anything else is taken as a directory holding
 * the four IDX files, raw or {@code .gz}.
 */
public final class Datasets {

  public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets");

  /**
   * Generated in code by {@link Synthetic}: needs no files or network, for smoke tests and demos.
   */
  public static final String SYNTHETIC = "synthetic";

  private Datasets() {}

  /** The directories searched for {@code name}, in order. */
  public static List<Path> searchPath(String name, Path dataDir) {
    List<Path> dirs = new ArrayList<>();
    if (dataDir != null) {
      dirs.add(dataDir.resolve(name));
      dirs.add(dataDir);
    }
    dirs.add(Path.of("data").resolve(name));
    dirs.add(SYSTEM_DIR.resolve(name));
    return dirs;
  }

  /** The directory holding the dataset's files, if it is present anywhere on the search path. */
  public static Optional<Path> find(String nameOrPath, Path dataDir) {
    if (KnownDataset.byName(nameOrPath).isEmpty()) {
      Path dir = Path.of(nameOrPath);
      // a relative directory is looked for under dataDir first: what a server's clients may name
      if (dataDir != null && !dir.isAbsolute() && complete(dataDir.resolve(dir))) {
        return Optional.of(dataDir.resolve(dir));
      }
      return complete(dir) ? Optional.of(dir) : Optional.empty();
    }
    return searchPath(nameOrPath, dataDir).stream().filter(Datasets::complete).findFirst();
  }

  public static Path locate(String nameOrPath, Path dataDir) {
    return find(nameOrPath, dataDir).orElseThrow(() -> missing(nameOrPath, dataDir));
  }

  public static Dataset load(String nameOrPath, Path dataDir) {
    if (SYNTHETIC.equals(nameOrPath)) {
      return Synthetic.generate(6000, 1000, 1);
    }
    Path dir = locate(nameOrPath, dataDir);
    Split train =
        Idx.readSplit(file(dir, KnownDataset.FILES.get(0)), file(dir, KnownDataset.FILES.get(1)));
    Split test =
        Idx.readSplit(file(dir, KnownDataset.FILES.get(2)), file(dir, KnownDataset.FILES.get(3)));
    if (train.rows() != test.rows() || train.cols() != test.cols()) {
      throw new DataException(
          dir
              + ": train images are "
              + train.rows()
              + "x"
              + train.cols()
              + " but test images are "
              + test.rows()
              + "x"
              + test.cols());
    }
    String name =
        KnownDataset.byName(nameOrPath)
            .map(KnownDataset::name)
            .orElse(dir.getFileName().toString());
    int classes = Math.max(maxLabel(train), maxLabel(test)) + 1;
    List<String> classNames =
        KnownDataset.byName(nameOrPath)
            .map(KnownDataset::classNames)
            .orElse(IntStream.range(0, classes).mapToObj(Integer::toString).toList());
    return new Dataset(name, train, test, classNames);
  }

  /**
   * Loads the dataset, fetching it first by {@link DatasetFetcher}'s routes when it is not present.
   */
  public static Dataset ensure(String name, Path dataDir, Consumer<String> log) {
    if (!SYNTHETIC.equals(name) && find(name, dataDir).isEmpty()) {
      KnownDataset known = KnownDataset.byName(name).orElseThrow(() -> missing(name, dataDir));
      log.accept("dataset " + name + " is not present; fetching it");
      new DatasetFetcher(known, log).fetch(dataDir != null ? dataDir : Path.of("data"));
    }
    return load(name, dataDir);
  }

  /**
   * The file in {@code dir} for a base name, preferring {@code .gz}; the {@code .gz} path when
   * neither exists.
   */
  static Path file(Path dir, String base) {
    Path gz = dir.resolve(base + ".gz");
    Path raw = dir.resolve(base);
    return Files.exists(gz) || !Files.exists(raw) ? gz : raw;
  }

  public static boolean complete(Path dir) {
    return KnownDataset.FILES.stream().allMatch(f -> Files.isRegularFile(file(dir, f)));
  }

  private static int maxLabel(Split s) {
    int max = 0;
    for (int i = 0; i < s.count(); i++) {
      max = Math.max(max, s.label(i));
    }
    return max;
  }

  static DataException missing(String nameOrPath, Path dataDir) {
    if (KnownDataset.byName(nameOrPath).isEmpty()) {
      return new DataException(
          "dataset '"
              + nameOrPath
              + "' is neither a known name (mnist, fashion-mnist, synthetic) nor a "
              + "directory holding "
              + String.join(", ", KnownDataset.FILES)
              + " (raw or .gz)");
    }
    return new DataException(
        "dataset '"
            + nameOrPath
            + "' not found; looked in "
            + searchPath(nameOrPath, dataDir).stream().map(Path::toString).toList()
            + ". Run: latentstream datasets fetch "
            + nameOrPath);
  }
}
