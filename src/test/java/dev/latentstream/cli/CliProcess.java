package dev.latentstream.cli;

import dev.latentstream.testing.ChildProcessOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code latentstream} run from a shell ({@link ChildProcessOutput}), with signals delivered as a
 * terminal's Ctrl-C or a service manager's stop would.
 */
final class CliProcess extends ChildProcessOutput {

  private CliProcess(Process process) {
    super(process);
  }

  static CliProcess start(Path workDir, String... args) throws IOException {
    // A background job of a non-interactive shell ignores SIGINT, and its children inherit that;
    // a user's terminal does not. Perl (essential on Debian) gives the child the default back
    // before exec.
    List<String> prefix =
        sigintIgnored()
            ? List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"")
            : List.of();
    return new CliProcess(latentstream(workDir, prefix, args));
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
}
