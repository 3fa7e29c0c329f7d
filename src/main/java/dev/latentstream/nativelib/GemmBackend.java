package dev.latentstream.nativelib;

/**
 * Which GEMM a hand-written step multiplies with: {@link Gemm} (lsgemm, AVX-512F CPUs) or
 * libtorch's OpenBLAS ({@link OpenBlas#sgemm}). A choice by value, so a test can force either.
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
}
