package dev.latentstream.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.model.Libtorch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libtorch's own OpenBLAS, reached directly: the fallback GEMM of the hand-written step where
 * lsgemm is not built.
 */
class OpenBlasTest {

  @BeforeAll
  static void loadLibtorch() {
    Libtorch.load();
  }

  @Test
  void libtorchsSgemmMultipliesRowMajorWithTransposes() {
    assertTrue(OpenBlas.hasSgemm(), "no cblas_sgemm in libtorch_cpu");
    // A is 2x3, B^T is given as 2x3 (so op(B) is 3x2); C = A op(B) + 0.5 C.
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment a = native_(arena, 1, 2, 3, 4, 5, 6);
      MemorySegment bt = native_(arena, 1, 0, 1, 0, 1, 0);
      MemorySegment c = native_(arena, 10, 10, 10, 10);
      OpenBlas.sgemm(OpenBlas.NO_TRANS, OpenBlas.TRANS, 2, 2, 3, 1f, a, 3, bt, 3, 0.5f, c, 2);
      assertArrayEquals(
          new float[] {1 + 3 + 5, 2 + 5, 4 + 6 + 5, 5 + 5}, c.toArray(ValueLayout.JAVA_FLOAT));
    }
  }

  private static MemorySegment native_(Arena arena, float... values) {
    return arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
  }

  @Test
  void libtorchsThreadCountCanBeSet() {
    assertTrue(OpenBlas.canSetThreads(), "no openblas_set_num_threads in libtorch_cpu");
    int before = OpenBlas.threadsOfEveryCopy().getFirst();
    try {
      OpenBlas.setThreads(1);
      assertTrue(
          OpenBlas.threadsOfEveryCopy().contains(1), "libtorch's copy did not take the count");
    } finally {
      OpenBlas.setThreadsInEveryCopy(before);
    }
  }
}
