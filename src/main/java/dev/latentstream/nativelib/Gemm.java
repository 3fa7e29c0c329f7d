package dev.latentstream.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Single-precision GEMM from {@code native/src/lsgemm.c}: packed 8x32 kernels in 512-bit registers,
 * split between the caller and helper threads. On the trainer's shapes (a batch of 128 against
 * layers of a few hundred units) it takes about half the time of the OpenBLAS that libtorch ships,
 * whichever kernels that OpenBLAS picks. Present only where liblsframes loads and the CPU has
 * AVX-512F; callers keep a BLAS for the rest.
 */
public final class Gemm {

  private static final Optional<Gemm> INSTANCE = load();

  private final MethodHandle sgemm;
  private final MethodHandle setThreads;
  private final MethodHandle threads;

  private Gemm(SymbolLookup lib) {
    Linker linker = Linker.nativeLinker();
    // Not a critical downcall: a product may take a millisecond and wait for its helper thread, and
    // the
    // JVM should reach safepoints meanwhile.
    sgemm =
        linker.downcallHandle(
            lib.find("lsg_sgemm").orElseThrow(),
            FunctionDescriptor.of(
                JAVA_INT,
                JAVA_INT,
                JAVA_INT,
                JAVA_INT,
                JAVA_INT,
                JAVA_INT,
                ADDRESS,
                JAVA_INT,
                ADDRESS,
                JAVA_INT,
                JAVA_FLOAT,
                ADDRESS,
                JAVA_INT));
    setThreads =
        linker.downcallHandle(
            lib.find("lsg_set_threads").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    threads =
        linker.downcallHandle(
            lib.find("lsg_threads").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
  }

  /** The native GEMM, when this machine can run it. */
  public static Optional<Gemm> available() {
    return INSTANCE;
  }

  private static Optional<Gemm> load() {
    if (!Gemm.class.getModule().isNativeAccessEnabled()) {
      return Optional.empty();
    }
    try {
      SymbolLookup lib = NativeLibrary.lookup();
      MethodHandle available =
          Linker.nativeLinker()
              .downcallHandle(
                  lib.find("lsg_available").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
      return (int) available.invokeExact() == 1 ? Optional.of(new Gemm(lib)) : Optional.empty();
    } catch (Throwable t) {
      return Optional.empty(); // no library or no AVX-512F: the caller's BLAS does the work
    }
  }

  /**
   * Threads each large product of the calling thread may use, its own included (1 to 64). The count
   * belongs to the calling thread (a job's trainer): a count set later on another thread leaves it.
   */
  public void setThreads(int threads) {
    int rc;
    try {
      rc = (int) setThreads.invokeExact(threads);
    } catch (Throwable t) {
      throw new IllegalStateException("lsg_set_threads failed", t);
    }
    if (rc != 0) {
      throw new IllegalArgumentException(
          "cannot use " + threads + " threads for GEMM (1 to 64, and each must start)");
    }
  }

  /** The count the calling thread's products use ({@link #setThreads}). */
  public int threads() {
    try {
      return (int) threads.invokeExact();
    } catch (Throwable t) {
      throw new IllegalStateException("lsg_threads failed", t);
    }
  }

  /**
   * {@code C = op(A) op(B) + beta C}, row-major; {@code transA}: A is stored k × m, else m × k
   * (likewise B: n × k transposed, else k × n). {@code beta} is 0 or 1.
   *
   * @throws IllegalArgumentException for sizes or leading dimensions that do not fit, or another
   *     beta
   */
  public void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      MemorySegment a,
      int lda,
      MemorySegment b,
      int ldb,
      float beta,
      MemorySegment c,
      int ldc) {
    check("A", a, transA ? k : m, lda, transA ? m : k);
    check("B", b, transB ? n : k, ldb, transB ? k : n);
    check("C", c, m, ldc, n);
    int rc;
    try {
      rc =
          (int)
              sgemm.invokeExact(
                  transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb, beta, c, ldc);
    } catch (Throwable t) {
      throw new IllegalStateException("lsg_sgemm failed", t);
    }
    switch (rc) {
      case 0 -> {}
      case -1 ->
          throw new IllegalArgumentException(
              "sgemm: bad arguments (m="
                  + m
                  + " n="
                  + n
                  + " k="
                  + k
                  + " lda="
                  + lda
                  + " ldb="
                  + ldb
                  + " ldc="
                  + ldc
                  + " beta="
                  + beta
                  + ")");
      case -3 -> throw new OutOfMemoryError("sgemm: no scratch memory for packing");
      default -> throw new IllegalStateException("lsg_sgemm returned " + rc);
    }
  }

  /** A rows × cols matrix with leading dimension ld must lie inside the segment. */
  private static void check(String name, MemorySegment s, int rows, int ld, int cols) {
    if (rows < 0 || cols < 0 || ld < cols) {
      throw new IllegalArgumentException(
          name + ": " + rows + " x " + cols + " with leading dimension " + ld);
    }
    long floats = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
    if (floats * Float.BYTES > s.byteSize()) {
      throw new IllegalArgumentException(
          name
              + ": "
              + rows
              + " x "
              + cols
              + " (leading dimension "
              + ld
              + ") needs "
              + floats * Float.BYTES
              + " bytes, the segment has "
              + s.byteSize());
    }
  }
}
