package dev.latentstream.ops;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code latentstream} in a process of its own, as an operator runs it: the test JVM's java and
 * class path, the launcher's flags and environment, stdout and stderr collected line by line.
 */
final class ServeProcess implements AutoCloseable {

  final Process process;
  private final List<String> out = new ArrayList<>();
  private final List<String> err = new ArrayList<>();

  /** Streams read to their end: after that, and only then, no more lines can come. */
  private int ended;

  private ServeProcess(Process process) {
    this.process = process;
    pump(process.getInputStream(), out);
    pump(process.getErrorStream(), err);
  }

  static ServeProcess start(Path workDir, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-Xmx1g",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.latentstream.cli.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("LATENTSTREAM_"));
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    return new ServeProcess(pb.start());
  }

  private void pump(InputStream in, List<String> into) {
    Thread.ofPlatform()
        .daemon(true)
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  synchronized (this) {
                    into.add(line);
                    notifyAll();
                  }
                }
              } catch (IOException ignored) {
                // the process is gone
              }
              synchronized (this) {
                ended++;
                notifyAll();
              }
            });
  }

  /** Waits until the process has exited and everything it printed has been read. */
  synchronized void awaitEnd(long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (ended < 2 && System.nanoTime() < deadline) {
      wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
  }

  synchronized List<String> out() {
    return List.copyOf(out);
  }

  synchronized List<String> err() {
    return List.copyOf(err);
  }

  /**
   * Waits for a stdout line matching {@code p}; fails with what the process printed when it does
   * not come.
   */
  synchronized String awaitLine(Predicate<String> p, long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    int seen = 0;
    while (true) {
      for (; seen < out.size(); seen++) {
        if (p.test(out.get(seen))) {
          return out.get(seen);
        }
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0 || (ended == 2 && seen == out.size())) {
        throw new AssertionError(
            "no such line within " + seconds + " s; stdout: " + out + "; stderr: " + err);
      }
      wait(Math.min(left, 200));
    }
  }

  /** The port from "latentstream is serving at http://host:PORT/". */
  int port() throws InterruptedException {
    Matcher m =
        Pattern.compile("serving at http://[^:]+:(\\d+)/")
            .matcher(awaitLine(l -> l.contains("serving at"), 90));
    if (!m.find()) {
      throw new AssertionError("no port in the serving line");
    }
    return Integer.parseInt(m.group(1));
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
