package dev.latentstream.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code latentstream} in a process of its own, as a user runs it from a shell: the test JVM's java
 * and class path, the launcher's flags and environment, stdout and stderr collected line by line,
 * and signals delivered as a terminal's Ctrl-C or a service manager's stop would.
 */
final class CliProcess implements AutoCloseable {

  final Process process;
  private final List<String> out = new ArrayList<>();
  private final List<String> err = new ArrayList<>();
  private int ended;

  private CliProcess(Process process) {
    this.process = process;
    pump(process.getInputStream(), out);
    pump(process.getErrorStream(), err);
  }

  static CliProcess start(Path workDir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (sigintIgnored()) {
      // A background job of a non-interactive shell ignores SIGINT, and its children inherit that;
      // a user's
      // terminal does not. Perl (essential on Debian) gives the child the default back before exec.
      cmd.addAll(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\""));
    }
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
    return new CliProcess(pb.start());
  }

  /** Runs to the end and returns this, with its exit code in {@link #exit}. */
  static CliProcess run(Path workDir, String... args) throws IOException, InterruptedException {
    CliProcess p = start(workDir, args);
    if (!p.process.waitFor(240, TimeUnit.SECONDS)) {
      p.close();
      throw new AssertionError(
          "latentstream "
              + String.join(" ", args)
              + " did not end within 240 s; stdout: "
              + p.out()
              + "; stderr: "
              + p.err());
    }
    p.awaitEnd(30);
    return p;
  }

  /**
   * Whether this JVM ignores SIGINT (bit 1 of /proc/self/status's SigIgn mask), so its children
   * would too.
   */
  static boolean sigintIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseLong(line.substring(7).strip(), 16) & 2) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux: assume a terminal's defaults
    }
    return false;
  }

  /** Sends {@code signal} ("INT", "TERM") to the process. */
  void signal(String signal) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  int exit() {
    return process.exitValue();
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

  /** Waits until everything the process printed has been read. */
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

  @Override
  public String toString() {
    return "stdout: " + out() + "\nstderr: " + err();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
