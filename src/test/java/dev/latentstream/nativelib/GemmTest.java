package dev.latentstream.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The native GEMM against a plain loop, through the Java binding the trainer uses. */
class GemmTest {

  /**
   * The GEMM, which must be there exactly when the kernel reports AVX-512F (/proc/cpuinfo). On a
   * CPU without it the trainer's OpenBLAS path is what runs, and the test ends once it has checked
   * that.
   */
  private static Optional<Gemm> gemm() throws IOException {
    boolean avx512 =
        Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
            .anyMatch(line -> line.startsWith("flags") && (" " + line + " ").contains(" avx512f "));
    assertEquals(
        avx512, Gemm.available().isPresent(), "Gemm is available exactly on AVX-512F CPUs");
    return Gemm.available();
  }

  @Test
  void everyTransposeCaseOfTheTrainersShapesMatchesAPlainLoopOnOneAndTwoThreads()
      throws IOException {
    if (gemm().isEmpty()) {
      return;
    }
    Gemm gemm = gemm().get();
    int[][] shapes = {
      {128, 400, 784}, {784, 400, 128}, {128, 20, 400}, {20, 400, 128}, {37, 45, 9}
    };
    Random random = new Random(3);
    try (Arena arena = Arena.ofConfined()) {
      for (int threads : new int[] {2, 1}) {
        gemm.setThreads(threads);
        for (int[] s : shapes) {
          for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            int m = s[0], n = s[1], k = s[2];
            float[] a = randoms(random, m * k),
                b = randoms(random, k * n),
                c = randoms(random, m * n);
            MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
            MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment sc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, c);
            float beta = t == 3 ? 1 : 0;
            gemm.sgemm(ta, tb, m, n, k, sa, ta ? m : k, sb, tb ? k : n, beta, sc, n);
            float[] got = sc.toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < m; i++) {
              for (int j = 0; j < n; j++) {
                double want = beta * c[i * n + j];
                for (int q = 0; q < k; q++) {
                  want +=
                      (double) (ta ? a[q * m + i] : a[i * k + q])
                          * (tb ? b[j * k + q] : b[q * n + j]);
                }
                assertEquals(
                    want,
                    got[i * n + j],
                    1e-4 * Math.sqrt(k),
                    "C["
                        + i
                        + "]["
                        + j
                        + "] of "
                        + m
                        + "x"
                        + n
                        + "x"
                        + k
                        + " ta="
                        + ta
                        + " tb="
                        + tb
                        + " threads="
                        + threads);
              }
            }
          }
        }
      }
    } finally {
      gemm.setThreads(Math.max(1, Runtime.getRuntime().availableProcessors()));
    }
  }

  @Test
  void aMatrixThatDoesNotFitItsSegmentIsRefusedBeforeAnyNativeCode() throws IOException {
    if (gemm().isEmpty()) {
      return;
    }
    Gemm gemm = gemm().get();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment small = arena.allocate(4L * 10);
      MemorySegment big = arena.allocate(4L * 100);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> gemm.sgemm(false, false, 4, 4, 4, small, 4, big, 4, 0, big, 4));
      assertTrue(e.getMessage().startsWith("A: 4 x 4"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> gemm.sgemm(false, false, 4, 4, 4, big, 4, big, 4, 0.5f, big, 4));
      assertThrows(
          IllegalArgumentException.class,
          () -> gemm.sgemm(false, false, 4, 4, 4, big, 3, big, 4, 0, big, 4));
      assertThrows(IllegalArgumentException.class, () -> gemm.setThreads(0));
    }
  }

  private static float[] randoms(Random random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextFloat() * 2 - 1;
    }
    return v;
  }
}
