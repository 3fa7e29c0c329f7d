package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.nativelib.Gemm;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits the cores between libtorch's OpenMP pool and OpenBLAS's own pthread pool, per model.
 *
 * <p>Why per model: libtorch sends GEMMs to OpenBLAS ({@code libopenblas.so.0}, a pthreads build) and
 * runs everything else on OpenMP. MLPs spend their time in GEMMs, so they train fastest with OpenBLAS
 * on every core and libtorch on one (measured on 2 cores: MLP VAE 3.9 → 3.0 ms/step). Convolutions would
 * train faster the other way round (conv VAE 230 → 108 ms/step), but then libtorch's OpenMP threads call
 * OpenBLAS at once while OpenBLAS runs single-threaded, and this build is not safe for that: about one
 * conv-vae run in three went NaN within its first steps (TrainerTest; none of ten with one libtorch
 * thread). So every model gets one libtorch thread, and OpenBLAS every core except for the conv VAE,
 * which still went NaN now and then with two OpenBLAS threads and now trains on one thread in all.
 * OpenBLAS's count is set through its C API in the library libtorch actually mapped; the openblas
 * presets' {@code blas_set_num_threads} binds a second copy and has no effect on libtorch.
 *
 * <p>{@code OMP_WAIT_POLICY=PASSIVE} must be in the environment before libtorch loads; the launcher sets
 * it, and {@link #environmentWarning()} says when it is missing. Thread counts are per thread: call
 * {@link #configure} on the thread that trains.
 */
public final class Threads {

  /** openblas_set_num_threads in every OpenBLAS the process mapped. */
  private static final List<MethodHandle> OPENBLAS_SET_NUM_THREADS = findOpenBlas();

  private Threads() {}

  /** The thread split chosen for a job: libtorch intra-op threads and OpenBLAS threads. */
  public record Split(int torch, int blas) {}

  /** Applies the split for {@code job} on the calling thread; {@code threads > 0} in the job caps both pools. */
  public static Split configure(JobConfig job) {
    return configure(job, Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  /** As {@link #configure(JobConfig)}, with {@code available} cores for a job that does not set {@code threads}. */
  public static Split configure(JobConfig job, int available) {
    int cores = job.threads() > 0 ? job.threads() : available;
    // The conv VAE trains on one thread in all: even with one libtorch thread, about one TrainerTest run in
    // four still sent its first steps to NaN with OpenBLAS on two (CI, 2026-11-28); with none in parallel
    // there is nothing left to race.
    Split split = new Split(1, job.model() == JobConfig.ModelType.conv_vae ? 1 : cores);
    org.bytedeco.pytorch.global.torch.set_num_threads(split.torch());
    setBlasThreads(split.blas());
    // The hand-written steps' GEMMs (nativelib.Gemm) take the place of OpenBLAS's, on as many threads.
    Gemm.available().ifPresent(gemm -> gemm.setThreads(split.blas()));
    return split;
  }

  /**
   * Sets OpenBLAS's thread count in every copy of OpenBLAS the process mapped; false when none was found.
   *
   * <p>Why every copy: the openblas presets load two, {@code libopenblas.so.0} and {@code
   * libopenblas_nolapack.so.0}, and both carry the soname {@code libopenblas.so.0}, so which one serves
   * libtorch's GEMMs depends on load order. Here it was the nolapack copy (perf: {@code sgemm_kernel}
   * ran in its mapping), and setting only {@code libopenblas.so.0} left libtorch's OpenBLAS on every core.
   */
  static boolean setBlasThreads(int n) {
    boolean set = false;
    for (MethodHandle h : OPENBLAS_SET_NUM_THREADS) {
      try {
        h.invokeExact(n);
        set = true;
      } catch (Throwable e) {
        // that copy is left as it was; the others are still set
      }
    }
    return set;
  }

  /** openblas_get_num_threads of every mapped OpenBLAS, in the order of /proc/self/maps. */
  static List<Integer> blasThreads() {
    List<Integer> out = new ArrayList<>();
    for (String path : openBlasPaths()) {
      SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
      lib.find("openblas_get_num_threads").ifPresent(symbol -> {
        try {
          out.add((int) Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT))
              .invokeExact());
        } catch (Throwable e) {
          throw new IllegalStateException("openblas_get_num_threads failed in " + path, e);
        }
      });
    }
    return out;
  }

  private static List<String> openBlasPaths() {
    try {
      return Files.readAllLines(Path.of("/proc/self/maps")).stream()
          .map(line -> line.substring(line.lastIndexOf(' ') + 1))
          .filter(p -> p.matches(".*/libopenblas[^/]*\\.so(\\.[0-9]+)*"))
          .distinct()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<MethodHandle> findOpenBlas() {
    dev.latentstream.model.Libtorch.load();
    try {
      List<MethodHandle> out = new ArrayList<>();
      for (String path : openBlasPaths()) {
        SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
        lib.find("openblas_set_num_threads").map(symbol -> Linker.nativeLinker()
            .downcallHandle(symbol, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))).ifPresent(out::add);
      }
      return List.copyOf(out);
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  private static final int PRIO_PROCESS = 0;

  /**
   * Lowers the calling thread's CPU priority to {@code niceness} (Linux: 0 normal to 19 lowest; raising it
   * needs no privilege). A process that trains and serves runs its trainer thread this way, so the event loops
   * answer first whenever they have work and training still gets every cycle they leave. False where the
   * platform has no per-thread {@code setpriority} (then nothing changes).
   */
  public static boolean lowerPriority(int niceness) {
    if (niceness < 0 || niceness > 19) {
      throw new IllegalArgumentException("niceness must be from 0 to 19, got " + niceness);
    }
    Linker linker = Linker.nativeLinker();
    SymbolLookup libc = linker.defaultLookup();
    Optional<java.lang.foreign.MemorySegment> gettid = libc.find("gettid");
    Optional<java.lang.foreign.MemorySegment> setpriority = libc.find("setpriority");
    if (gettid.isEmpty() || setpriority.isEmpty()) {
      return false;
    }
    try {
      int tid = (int) linker.downcallHandle(gettid.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
      int rc = (int) linker.downcallHandle(setpriority.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
          ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)).invokeExact(PRIO_PROCESS, tid, niceness);
      return rc == 0;
    } catch (Throwable e) {
      return false;
    }
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
