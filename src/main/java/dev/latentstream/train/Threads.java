package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.nativelib.Gemm;
import dev.latentstream.nativelib.OpenBlas;
import dev.latentstream.nativelib.ThreadPriority;
import java.util.List;

/**
 * Splits the cores between libtorch's OpenMP pool and OpenBLAS's own pthread pool, per model.
 *
 * <p>Why per model: libtorch sends GEMMs to OpenBLAS ({@code libopenblas.so.0}, a pthreads build)
 * and runs everything else on OpenMP. MLPs spend their time in GEMMs, so they train fastest with
 * OpenBLAS on every core and libtorch on one (measured on 2 cores: MLP VAE 3.9 → 3.0 ms/step).
 * Convolutions would train faster the other way round (conv VAE 230 → 108 ms/step), but then
 * libtorch's OpenMP threads call OpenBLAS at once while OpenBLAS runs single-threaded, and this
 * build is not safe for that: about one conv-vae run in three went NaN within its first steps
 * (TrainerTest; none of ten with one libtorch thread). So every model gets one libtorch thread, and
 * OpenBLAS every core except for the conv VAE, which still went NaN now and then with two OpenBLAS
 * threads and now trains on one thread in all. OpenBLAS's count is set through its C API in the
 * library libtorch actually mapped; the openblas presets' {@code blas_set_num_threads} binds a
 * second copy and has no effect on libtorch.
 *
 * <p>{@code OMP_WAIT_POLICY=PASSIVE} must be in the environment before libtorch loads; the launcher
 * sets it, and {@link #environmentWarning()} says when it is missing. Thread counts are per thread:
 * call {@link #configure} on the thread that trains.
 *
 * <p>Who owns which setting when jobs run side by side: each job trains on its share of the cores
 * ({@code ServerConfig.coresPerJob}). libtorch's intra-op count is thread-local, so each trainer
 * thread keeps its own. OpenBLAS's count and {@code lsgemm}'s helper pool are process-wide (neither
 * library has a per-thread setting): jobs on equal shares write the same value, but a conv VAE's
 * single OpenBLAS thread applies to every job running beside it until another job sets it again.
 */
public final class Threads {

  static {
    // OpenBLAS is found among the libraries libtorch mapped.
    dev.latentstream.model.Libtorch.load();
  }

  private Threads() {}

  /** The thread split chosen for a job: libtorch intra-op threads and OpenBLAS threads. */
  public record Split(int torch, int blas) {}

  /**
   * Applies the split for {@code job} on the calling thread; {@code threads > 0} in the job caps
   * both pools.
   */
  public static Split configure(JobConfig job) {
    return configure(job, Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * As {@link #configure(JobConfig)}, with {@code available} cores for a job that does not set
   * {@code threads}.
   */
  public static Split configure(JobConfig job, int available) {
    Split split = split(job, available);
    org.bytedeco.pytorch.global.torch.set_num_threads(split.torch());
    setBlasThreads(split.blas());
    // The hand-written steps' GEMMs (nativelib.Gemm) take the place of OpenBLAS's, on as many
    // threads.
    Gemm.available().ifPresent(gemm -> gemm.setThreads(split.blas()));
    return split;
  }

  /**
   * The split {@link #configure(JobConfig, int)} applies for {@code job} with {@code available}
   * cores, without applying it ({@code bench} gives its peer the same).
   */
  public static Split split(JobConfig job, int available) {
    int cores = job.threads() > 0 ? job.threads() : available;
    // The conv VAE trains on one thread in all: even with one libtorch thread, about one
    // TrainerTest run in four still sent its first steps to NaN with OpenBLAS on two (CI,
    // 2026-11-28); with none in parallel there is nothing left to race.
    return new Split(1, job.model() == JobConfig.ModelType.conv_vae ? 1 : cores);
  }

  /**
   * Sets OpenBLAS's thread count in every copy of OpenBLAS the process mapped; false when none was
   * found.
   */
  static boolean setBlasThreads(int n) {
    return OpenBlas.setThreadsInEveryCopy(n);
  }

  /** openblas_get_num_threads of every mapped OpenBLAS, in the order of /proc/self/maps. */
  static List<Integer> blasThreads() {
    return OpenBlas.threadsOfEveryCopy();
  }

  /**
   * Lowers the calling thread's CPU priority to {@code niceness} (Linux: 0 normal to 19 lowest;
   * raising it needs no privilege). A process that trains and serves runs its trainer thread this
   * way, so the event loops answer first whenever they have work and training still gets every
   * cycle they leave. False where the platform has no per-thread {@code setpriority} (then nothing
   * changes).
   */
  public static boolean lowerPriority(int niceness) {
    if (niceness < 0 || niceness > 19) {
      throw new IllegalArgumentException("niceness must be from 0 to 19, got " + niceness);
    }
    return ThreadPriority.setNiceness(niceness);
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
