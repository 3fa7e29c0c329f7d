package dev.latentstream.cli;

import dev.latentstream.train.Threads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code bench}'s two sides run under, read from this process: the thread split, the OpenBLAS
 * libtorch mapped, the {@code OPENBLAS_*} and {@code OMP_*} variables, and the peak resident set.
 */
final class BenchEnvironment {
  private BenchEnvironment() {}

  /**
   * What both sides run under: libtorch's and torch's intra-op threads, OpenBLAS's threads (ours
   * set through its API, the peer's by {@code OPENBLAS_NUM_THREADS}), the one OpenBLAS build (the
   * peer preloads the copy libtorch mapped here: Debian's torch otherwise calls the reference
   * BLAS), and whatever {@code OPENBLAS_*} and {@code OMP_*} the environment already set.
   */
  static void print(Threads.Split split) {
    System.out.printf(
        Locale.ROOT,
        "environment, both sides: %d cores, torch threads %d, OpenBLAS threads %d, BLAS %s%n",
        Runtime.getRuntime().availableProcessors(),
        split.torch(),
        split.blas(),
        libtorchOpenBlas().map(Path::toString).orElse("(no OpenBLAS mapped)"));
    variables().forEach((k, v) -> System.out.printf("  %s=%s (from the environment)%n", k, v));
    if (!"PASSIVE".equalsIgnoreCase(System.getenv("OMP_WAIT_POLICY"))) {
      System.out.println(
          "  warning: OMP_WAIT_POLICY is not PASSIVE here; the peer gets PASSIVE, so the race is"
              + " not even (run through ./latentstream)");
    }
  }

  /** The {@code OPENBLAS_*} and {@code OMP_*} variables set in this process, sorted. */
  static Map<String, String> variables() {
    var out = new TreeMap<String, String>();
    System.getenv()
        .forEach(
            (k, v) -> {
              if (k.startsWith("OPENBLAS_") || k.startsWith("OMP_")) {
                out.put(k, v);
              }
            });
    return out;
  }

  /** The {@code libopenblas.so.0} libtorch mapped into this process, from /proc/self/maps. */
  static Optional<Path> libtorchOpenBlas() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
      return lines
          .map(line -> line.substring(line.lastIndexOf(' ') + 1))
          .filter(p -> p.endsWith("/libopenblas.so.0"))
          .sorted(Comparator.comparing((String p) -> !p.contains("/pytorch/")))
          .findFirst()
          .map(Path::of);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * This process's peak resident set ({@code VmHWM} in /proc/self/status), in MiB; NaN where there
   * is none.
   */
  static double peakRssMib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or an unreadable /proc: the figure is left out
    }
    return Double.NaN;
  }

  /**
   * Resets {@code VmHWM} to the current resident set (Linux: "5" to /proc/self/clear_refs), so each
   * of our runs in one process reports its own peak; where it cannot, the peak is the process's so
   * far (what a lone run reports anyway).
   */
  static void resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException | RuntimeException e) {
      // not Linux: the process's peak stands
    }
  }
}
