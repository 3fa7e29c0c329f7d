package dev.latentstream.testing;

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

/**
 * {@code latentstream} in a process of its own, as a user runs it: the test JVM's java and class
 * path, the launcher's flags and environment, and stdout and stderr collected line by line by two
 * daemon threads, which this object's monitor guards. Closing it kills the process.
 */
public class ChildProcessOutput implements AutoCloseable {

  public final Process process;
  private final List<String> out = new ArrayList<>();
  private final List<String> err = new ArrayList<>();

  /** Streams read to their end: after that, and only then, no more lines can come. */
  private int ended;

  protected ChildProcessOutput(Process process) {
    this.process = process;
    pump(process.getInputStream(), out);
    pump(process.getErrorStream(), err);
  }

  /**
   * Starts {@code latentstream args} in {@code workDir} after {@code prefix} (a wrapper such as
   * {@code perl -e ...}, or nothing), without the test JVM's {@code LATENTSTREAM_} variables.
   */
  protected static Process latentstream(Path workDir, List<String> prefix, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(
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
    return pb.start();
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

  /** Waits until everything the process printed has been read (it has closed both streams). */
  public synchronized void awaitEnd(long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (ended < 2 && System.nanoTime() < deadline) {
      wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
  }

  public synchronized List<String> out() {
    return List.copyOf(out);
  }

  public synchronized List<String> err() {
    return List.copyOf(err);
  }

  /**
   * Waits for a stdout line matching {@code p}; fails with what the process printed when it does
   * not come.
   */
  public synchronized String awaitLine(Predicate<String> p, long seconds)
      throws InterruptedException {
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

  @Override
  public String toString() {
    return "stdout: " + out() + "\nstderr: " + err();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
