package dev.latentstream.nativelib;

import java.lang.foreign.MemorySegment;

/**
 * Which GEMM a hand-written step multiplies with: {@link Gemm} (lsgemm, AVX-512F CPUs) or
 * libtorch's OpenBLAS ({@link OpenBlas#sgemm}). A choice by value, so a test or a benchmark can
 * force either; {@link #sgemm} is the one place that calls the chosen one.
 */
public enum GemmBackend {
  LSGEMM,
  OPENBLAS;

  /** lsgemm where this CPU runs it, else OpenBLAS. */
  public static GemmBackend best() {
    return Gemm.available().isPresent() ? LSGEMM : OPENBLAS;
  }

  /** Null when this backend runs here, else why not. */
  public String unavailableReason() {
    return switch (this) {
      case LSGEMM ->
          Gemm.available().isPresent()
              ? null
              : "lsgemm needs liblsframes and a CPU with AVX-512F (/proc/cpuinfo flag avx512f)";
      case OPENBLAS ->
          OpenBlas.hasSgemm() ? null : "no cblas_sgemm in the OpenBLAS libtorch mapped";
    };
  }

  /**
   * {@code C = op(A) op(B) + beta C}, row-major, by this backend: the arguments and their checks
   * are {@link Gemm#sgemm}'s (OpenBLAS is called with α = 1).
   *
   * @throws IllegalStateException when this backend does not run here ({@link #unavailableReason})
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
    switch (this) {
      case LSGEMM ->
          Gemm.available()
              .orElseThrow(() -> new IllegalStateException(unavailableReason()))
              .sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
      case OPENBLAS ->
          OpenBlas.sgemm(
              transA ? OpenBlas.TRANS : OpenBlas.NO_TRANS,
              transB ? OpenBlas.TRANS : OpenBlas.NO_TRANS,
              m,
              n,
              k,
              1f,
              a,
              lda,
              b,
              ldb,
              beta,
              c,
              ldc);
    }
  }
}
