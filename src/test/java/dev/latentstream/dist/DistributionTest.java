package dev.latentstream.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unpacks the distribution tarball into an empty directory and runs it as an operator would: on its
 * bundled runtime, with {@code JAVA_HOME} unset, no {@code java} on {@code PATH}, no {@code
 * OMP_WAIT_POLICY}, from a working directory outside the install. Run by {@code ./mvnw -Pdist
 * verify} (failsafe, after the tarball is built); skipped, saying why, when the tarball is absent.
 */
class DistributionTest {

  static final long TIMEOUT_SECONDS = 300;

  @TempDir static Path root;
  static Path home;
  static Path tools;
  static String version;

  /** Run by the dist profile's failsafe, which names the tarball it built. */
  static final boolean DIST_PROFILE = System.getProperty("dist.tarball") != null;

  @BeforeAll
  static void unpack() throws Exception {
    Path tarball = tarball() == null ? null : tarball().toAbsolutePath();
    String missing =
        "no distribution tarball " + (tarball == null ? "in target/" : tarball.toString());
    if (DIST_PROFILE) {
      // Run by -Pdist (failsafe names the tarball): a missing tarball is a broken build, never a
      // skip.
      assertTrue(tarball != null && Files.isRegularFile(tarball), missing);
    } else {
      assumeTrue(
          tarball != null && Files.isRegularFile(tarball),
          "skipped: " + missing + "; ./mvnw -Pdist verify builds it and runs this test");
    }
    Path install = Files.createDirectories(root.resolve("opt"));
    Result untar =
        run(
            List.of("tar", "xzf", tarball.toString(), "-C", install.toString()),
            install,
            System.getenv());
    assertEquals(0, untar.exit(), untar.output());
    try (Stream<Path> top = Files.list(install)) {
      List<Path> dirs = top.toList();
      assertEquals(1, dirs.size(), "one top-level directory: " + dirs);
      home = dirs.getFirst();
    }
    version = home.getFileName().toString().replaceFirst("^latentstream-", "");
    // PATH for the runs: only what bin/latentstream calls besides shell built-ins, and certainly no
    // java
    tools = Files.createDirectories(root.resolve("tools"));
    Files.createSymbolicLink(tools.resolve("readlink"), Path.of("/usr/bin/readlink").toRealPath());
  }

  static Path tarball() throws IOException {
    String given = System.getProperty("dist.tarball");
    if (given != null) {
      return Path.of(given);
    }
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      return files
          .filter(
              f -> f.getFileName().toString().matches("latentstream-.*-linux-x86_64\\.tar\\.gz"))
          .findFirst()
          .orElse(null);
    } catch (java.nio.file.NoSuchFileException e) {
      return null;
    }
  }

  record Result(int exit, String output) {}

  static Result run(List<String> command, Path cwd, Map<String, String> env) throws Exception {
    Process p = start(command, cwd, env);
    CompletableFuture<String> out =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                return "(unreadable output: " + e + ")";
              }
            });
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " did not finish within " + TIMEOUT_SECONDS + " s");
    }
    return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS));
  }

  static Process start(List<String> command, Path cwd, Map<String, String> env) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(env);
    return pb.start();
  }

  /**
   * The environment of a machine without Java: HOME (for the JavaCPP cache) and a PATH with no java
   * on it.
   */
  static Map<String, String> bare() {
    assertFalse(Files.exists(tools.resolve("java")));
    return Map.of(
        "HOME", System.getProperty("user.home"), "PATH", tools.toString(), "LANG", "C.UTF-8");
  }

  static Result latentstream(Path cwd, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(home.resolve("bin/latentstream").toString());
    command.addAll(List.of(args));
    return run(command, cwd, bare());
  }

  @Test
  void theTarballHoldsARuntimeTheJarItsLibrariesALauncherConfigAndAUnit() throws Exception {
    assertTrue(Files.isExecutable(home.resolve("runtime/bin/java")), "jlinked runtime");
    assertFalse(Files.exists(home.resolve("runtime/jmods")), "a runtime, not a JDK");
    assertTrue(Files.isRegularFile(home.resolve("latentstream.jar")));
    try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
      assertTrue(
          lib.anyMatch(f -> f.getFileName().toString().matches("pytorch-.*-linux-x86_64\\.jar")),
          "libtorch natives");
    }
    assertTrue(Files.isExecutable(home.resolve("bin/latentstream")));
    assertTrue(Files.isRegularFile(home.resolve("config/server.json")));
    assertTrue(Files.isRegularFile(home.resolve("config/jobs/vae-fashion.json")));
    String unit = Files.readString(home.resolve("latentstream.service"));
    for (String line :
        List.of(
            "DynamicUser=yes",
            "Restart=on-failure",
            "StateDirectory=latentstream",
            "WorkingDirectory=/var/lib/latentstream",
            "ExecStart=/opt/latentstream/bin/latentstream serve")) {
      assertTrue(unit.lines().anyMatch(line::equals), "unit has " + line);
    }
  }

  @Test
  void theRuntimeHasEveryModuleTheJarAndItsLibrariesNeed() throws Exception {
    var jdeps = java.util.spi.ToolProvider.findFirst("jdeps");
    if (DIST_PROFILE) {
      assertTrue(jdeps.isPresent(), "the build's JDK has no jdeps");
    } else {
      assumeTrue(jdeps.isPresent(), "skipped: this JVM has no jdeps (run the test on a JDK)");
    }
    // jdeps refuses modular jars whose modules are not all resolvable; their classes alone say what
    // they use
    Path classes = Files.createDirectories(root.resolve("jdeps-classes"));
    List<Path> jars = new ArrayList<>(List.of(home.resolve("latentstream.jar")));
    try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
      jars.addAll(lib.toList());
    }
    for (Path jar : jars) {
      try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
        for (var e : java.util.Collections.list(zip.entries())) {
          String name = e.getName();
          if (name.endsWith(".class")
              && !name.endsWith("module-info.class")
              && !name.startsWith("META-INF/")) {
            Path out = classes.resolve(name);
            Files.createDirectories(out.getParent());
            try (var in = zip.getInputStream(e)) {
              Files.copy(in, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
          }
        }
      }
    }
    var out = new java.io.StringWriter();
    int exit =
        jdeps
            .get()
            .run(
                new java.io.PrintWriter(out),
                new java.io.PrintWriter(out),
                "--multi-release",
                "25",
                "--ignore-missing-deps",
                "--print-module-deps",
                "-q",
                classes.toString());
    assertEquals(0, exit, out.toString());
    List<String> needed = List.of(out.toString().strip().split(","));
    String release = Files.readString(home.resolve("runtime/release"));
    Matcher m = Pattern.compile("MODULES=\"([^\"]*)\"").matcher(release);
    assertTrue(m.find(), release);
    List<String> bundled = List.of(m.group(1).split(" "));
    List<String> missing = needed.stream().filter(n -> !bundled.contains(n)).toList();
    assertTrue(
        missing.isEmpty(),
        "add " + missing + " to dist.modules in pom.xml (jdeps wants " + needed + ")");
  }

  @Test
  void theSystemdUnitIsValid() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    assumeTrue(Files.isExecutable(analyze), "skipped: no systemd-analyze on this machine");
    // the unit names /opt/latentstream; check it against this unpacked copy instead
    Path unit = root.resolve("units/latentstream.service");
    Files.createDirectories(unit.getParent());
    Files.writeString(
        unit,
        Files.readString(home.resolve("latentstream.service"))
            .replace("/opt/latentstream", home.toString()));
    Result verify =
        run(
            List.of(analyze.toString(), "verify", "--man=no", unit.toString()),
            unit.getParent(),
            System.getenv());
    assertEquals(0, verify.exit(), verify.output());
    assertFalse(
        verify.output().contains("latentstream.service"),
        "no complaint about the unit: " + verify.output());
  }

  @Test
  void versionRunsOnTheBundledRuntimeWithNoJavaOnThePath() throws Exception {
    Result r = latentstream(Files.createDirectories(root.resolve("elsewhere")), "--version");
    assertEquals(0, r.exit(), r.output());
    assertEquals("latentstream " + version, r.output().strip());
  }

  @Test
  void trainsOneEpochOnTheSyntheticDatasetFromAnEmptyDirectory() throws Exception {
    Path cwd = Files.createDirectories(root.resolve("work"));
    Files.writeString(
        cwd.resolve("synthetic.json"),
        "{\"model\":\"vae\",\"dataset\":\"synthetic\",\"hidden\":[64],\"latent\":2,\"batchSize\":100}");
    Result r =
        latentstream(
            cwd,
            "train",
            "--job",
            "synthetic.json",
            "--epochs",
            "1",
            "--out",
            "runs/synthetic",
            "--plain");
    assertEquals(0, r.exit(), r.output());
    assertFalse(
        r.output().contains("OMP_WAIT_POLICY is not PASSIVE"),
        "the launcher sets it: " + r.output());
    assertTrue(r.output().contains("completed: 1 epochs"), r.output());
    Path run = cwd.resolve("runs/synthetic");
    List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
    assertEquals(
        6000 / 100 + 1,
        metrics.size(),
        "a header and one row per step of 6000 images in batches of 100");
    assertTrue(metrics.getFirst().startsWith("step,"), metrics.getFirst());
    assertTrue(Files.size(run.resolve("checkpoint/latest.pt")) > 0);
    for (String png : List.of("loss.png", "reconst-1.png", "sampled-1.png")) {
      byte[] head = Arrays.copyOf(Files.readAllBytes(run.resolve(png)), 4);
      assertEquals("\u0089PNG", new String(head, StandardCharsets.ISO_8859_1), png);
    }
    assertTrue(
        Files.readString(run.resolve("job.json")).contains("\"epochs\" : 1"),
        "the override is recorded");
  }

  @Test
  void servesFromAStateDirectoryWithTheInstallsConfig() throws Exception {
    Path state = Files.createDirectories(root.resolve("var-lib-latentstream"));
    Process p =
        start(
            List.of(
                home.resolve("bin/latentstream").toString(), "serve", "--no-job", "--port", "0"),
            state,
            bare());
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      Pattern serving = Pattern.compile("latentstream is serving at (http://\\S+?)/?$");
      StringBuilder seen = new StringBuilder();
      String base = null;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
      for (String line;
          base == null && System.nanoTime() < end && (line = out.readLine()) != null; ) {
        seen.append(line).append('\n');
        Matcher m = serving.matcher(line);
        if (m.find()) {
          base = m.group(1);
        }
      }
      assertTrue(base != null, "no \"serving\" line:\n" + seen);
      HttpResponse<String> presets =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/api/presets")).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertEquals(200, presets.statusCode(), presets.body());
      assertTrue(
          presets.body().contains("vae-fashion"),
          "presets from the install's config/jobs: " + presets.body());
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    try (Stream<Path> left = Files.list(state)) {
      assertFalse(
          left.anyMatch(f -> f.getFileName().toString().equals("config")),
          "nothing copied into the state directory");
    }
  }
}
