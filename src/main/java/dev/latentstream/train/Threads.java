package dev.latentstream.train;

import org.bytedeco.pytorch.global.torch;

/**
 * libtorch's intra-op thread count, set on the thread that trains (OpenMP settings are per thread).
 * The process-wide knobs ({@code OMP_WAIT_POLICY=PASSIVE}, {@code OPENBLAS_NUM_THREADS}) must be in the
 * environment before libtorch loads; the {@code latentstream} launcher sets them.
 */
public final class Threads {
  private Threads() {}

  /** Uses {@code threads}, or one per available core when it is 0. */
  public static int configure(int threads) {
    int n = threads > 0 ? threads : Math.max(1, Runtime.getRuntime().availableProcessors());
    torch.set_num_threads(n);
    return n;
  }

  /** A one-line warning when the environment will make libtorch slow, or null. */
  public static String environmentWarning() {
    String policy = System.getenv("OMP_WAIT_POLICY");
    if (policy == null || !policy.equalsIgnoreCase("PASSIVE")) {
      return "OMP_WAIT_POLICY is not PASSIVE: libtorch's OpenMP threads will spin against OpenBLAS's and"
          + " training can be 15-30x slower; run through ./latentstream or export OMP_WAIT_POLICY=PASSIVE";
    }
    return null;
  }
}
