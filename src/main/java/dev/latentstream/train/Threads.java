package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.nativelib.Gemm;
import dev.latentstream.nativelib.OpenBlas;
import dev.latentstream.nativelib.ThreadPriority;
import java.util.ArrayList;
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
 * ({@code ServerConfig.coresPerJob}), claimed with {@link #claim} on its trainer thread.
 *
 * <ul>
 *   <li>libtorch's intra-op count is the trainer thread's own (an OpenMP setting of the calling
 *       thread). libtorch also keeps one process-wide count, which a thread takes the first time it
 *       runs a parallel op; {@link #claim} makes that happen before it sets its own, so a job
 *       started later cannot overwrite it.
 *   <li>{@code lsgemm}'s count is the trainer thread's own too ({@code lsg_set_threads}).
 *   <li>OpenBLAS's count cannot be a job's own: this build (pthreads) keeps one count for the whole
 *       process, read by every GEMM whichever thread calls it, and its {@code
 *       openblas_set_num_threads_local} sets that same count. So it is the smallest share among the
 *       running jobs' claims, whichever started last: a conv VAE's single OpenBLAS thread (see
 *       above) holds while it runs beside a VAE, and the VAE gets its share back when it ends. The
 *       hand-written VAE step's brief drop to one thread around its small products ({@link
 *       #onOneBlasThread}) happens only while no other job has a claim.
 * </ul>
 */
public final class Threads {

  static {
    // OpenBLAS is found among the libraries libtorch mapped.
    dev.latentstream.model.Libtorch.load();
  }

  private Threads() {}

  /** The thread split chosen for a job: libtorch intra-op threads and OpenBLAS threads. */
  public record Split(int torch, int blas) {}

  /** The running jobs' claims, in order of claiming; guarded by itself. */
  private static final List<Share> SHARES = new ArrayList<>();

  /**
   * A running job's claim on the cores: its thread split, applied on its trainer thread. Closing it
   * (when the run ends, on any thread) hands OpenBLAS back to the jobs still running.
   */
  public static final class Share implements AutoCloseable {
    private final Split split;

    private Share(Split split) {
      this.split = split;
    }

    public Split split() {
      return split;
    }

    @Override
    public void close() {
      synchronized (SHARES) {
        if (SHARES.remove(this)) {
          applyBlasShares();
        }
      }
    }
  }

  /**
   * Claims the split for {@code job} with {@code available} cores (when the job does not set {@code
   * threads}) for as long as it trains: libtorch's and {@code lsgemm}'s counts for the calling
   * thread, which is to be the job's trainer thread, and OpenBLAS's for the process, as the
   * smallest share among the claims still open (see the class comment).
   */
  public static Share claim(JobConfig job, int available) {
    Split split = split(job, available);
    setTorchThreads(split.torch());
    Gemm.available().ifPresent(gemm -> gemm.setThreads(split.blas()));
    Share share = new Share(split);
    synchronized (SHARES) {
      SHARES.add(share);
      applyBlasShares();
    }
    return share;
  }

  /** OpenBLAS on the smallest share still claimed; nothing changes when no claim is open. */
  private static void applyBlasShares() {
    SHARES.stream().mapToInt(s -> s.split.blas()).min().ifPresent(Threads::setBlasThreads);
  }

  /** OpenBLAS's count as this class last set it, 0 before; guarded by {@link #SHARES}. */
  private static int blasSet;

  /**
   * Runs {@code product} (a small GEMM on the calling thread) on one OpenBLAS thread when that
   * changes no other job's GEMMs, else on OpenBLAS's count as it is. OpenBLAS's count is one store
   * that every GEMM of the process reads, so lowering it for a moment is only done while at most
   * one job has claimed the cores (a trainer alone, or the CLI's one job), and is set back to what
   * {@link #claim} or {@link #configure} set, not to the caller's own share: beside a conv VAE,
   * whose share holds OpenBLAS at one thread, setting back a VAE's two would hand the conv VAE two.
   * The claims wait meanwhile, so none can start or end between the two stores.
   */
  static void onOneBlasThread(Runnable product) {
    synchronized (SHARES) {
      if (blasSet > 1 && SHARES.size() <= 1 && OpenBlas.canSetThreads()) {
        OpenBlas.setThreads(1);
        try {
          product.run();
        } finally {
          OpenBlas.setThreads(blasSet);
        }
        return;
      }
    }
    product.run();
  }

  /**
   * Sets libtorch's intra-op count for the calling thread only. A thread's first parallel op makes
   * libtorch set the thread's count to its process-wide one (the last set on any thread), so that
   * first happens here, before the thread's own count is set.
   */
  static void setTorchThreads(int n) {
    org.bytedeco.pytorch.global.torch.get_num_threads();
    org.bytedeco.pytorch.global.torch.set_num_threads(n);
  }

  /**
   * Applies the split for {@code job} on the calling thread; {@code threads > 0} in the job caps
   * both pools.
   */
  public static Split configure(JobConfig job) {
    return configure(job, Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  /**
   * As {@link #configure(JobConfig)}, with {@code available} cores for a job that does not set
   * {@code threads}. For a process that runs this one job (the CLI); a trainer {@link #claim}s its
   * share instead.
   */
  public static Split configure(JobConfig job, int available) {
    Split split = split(job, available);
    setTorchThreads(split.torch());
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
    synchronized (SHARES) {
      blasSet = n;
      return OpenBlas.setThreadsInEveryCopy(n);
    }
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
