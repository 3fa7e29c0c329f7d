package dev.latentstream.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The checkout's {@code ./latentstream} launcher as a user on a stock Debian machine meets it: a
 * {@code java} 17 first on {@code PATH} and in {@code JAVA_HOME}. It must find the JDK 25 under
 * {@code /usr/lib/jvm} and run the CLI there, keeping the CLI's exit codes. Runs after {@code
 * package} (failsafe, {@code -Pdist}), so the jar is fresh and the launcher does not rebuild it.
 */
class LauncherTest {

  static final Path JAVA17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

  record Result(int code, String out, String err) {}

  static Result launch(String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile("launcher", ".out");
    Path err = Files.createTempFile("launcher", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(List.of("./latentstream")));
      pb.command().addAll(List.of(args));
      Map<String, String> env = pb.environment();
      env.put("PATH", JAVA17.resolve("bin") + ":/usr/bin:/bin");
      env.put("JAVA_HOME", JAVA17.toString());
      env.remove("LATENTSTREAM_JAVA_OPTS");
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(
            "./latentstream " + String.join(" ", args) + " did not end within 5 minutes");
      }
      return new Result(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  @Test
  void withJava17OnPathAndInJavaHomeItRunsTheCliOnAJdk25() throws Exception {
    assumeTrue(
        Files.isExecutable(JAVA17.resolve("bin/java")),
        "needs Debian's openjdk-17 to stand in the way");
    Result r = launch("--version");
    assertEquals(0, r.code(), r.err());
    String version = System.getProperty("dist.version", "");
    assertTrue(r.out().startsWith("latentstream " + version), r.out());
  }

  @Test
  void theCliExitCodesComeThrough() throws Exception {
    Result r = launch("datasets", "fetch", "no-such-set");
    assertEquals(2, r.code(), r.out());
    assertEquals(
        "latentstream: unknown dataset 'no-such-set' (known: mnist, fashion-mnist)\n", r.err());
  }

  @Test
  void toolWithoutANameShowsItsUsage() throws Exception {
    Result r = launch("tool");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("usage: latentstream tool NAME [ARGS...]"), r.err());
  }
}
