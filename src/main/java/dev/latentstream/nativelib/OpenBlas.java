package dev.latentstream.nativelib;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The OpenBLAS that libtorch links, reached directly: {@code cblas_sgemm} and {@code
 * openblas_set_num_threads} as libtorch's own GEMMs resolve them, and the thread count of every
 * copy of OpenBLAS the process mapped. libtorch must be loaded before the first call ({@code
 * model.Libtorch.load()}); before that nothing is mapped and every lookup finds nothing.
 *
 * <p>Why through libtorch_cpu: the process maps two copies of OpenBLAS, each with its own worker
 * threads, and a step that used the other copy would leave one pool spinning while the other works.
 * Why every copy for the thread count: the openblas presets load {@code libopenblas.so.0} and
 * {@code libopenblas_nolapack.so.0}, both with the soname {@code libopenblas.so.0}, so which one
 * serves libtorch depends on load order.
 *
 * <p>The handles are looked up once, on first use, and shared by every thread; OpenBLAS's thread
 * count is process-wide.
 */
public final class OpenBlas {

  public static final int ROW_MAJOR = 101;
  public static final int NO_TRANS = 111;
  public static final int TRANS = 112;

  private OpenBlas() {}

  /** Looked up on first use, after the caller loaded libtorch. */
  private static final class Handles {
    static final Optional<MethodHandle> SGEMM =
        throughLibtorch(
            "cblas_sgemm",
            FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_FLOAT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_FLOAT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT));
    static final Optional<MethodHandle> SET_THREADS =
        throughLibtorch(
            "openblas_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));

    /** openblas_set_num_threads in every OpenBLAS the process mapped. */
    static final List<MethodHandle> SET_THREADS_EVERY_COPY =
        inEveryCopy("openblas_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
  }

  /** Whether libtorch's {@code cblas_sgemm} was found. */
  public static boolean hasSgemm() {
    return Handles.SGEMM.isPresent();
  }

  /** Whether libtorch's {@code openblas_set_num_threads} was found. */
  public static boolean canSetThreads() {
    return Handles.SET_THREADS.isPresent();
  }

  /**
   * {@code cblas_sgemm(ROW_MAJOR, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)}: C
   * = α op(A) op(B) + β C. The segments stay the caller's.
   *
   * @throws IllegalStateException when {@link #hasSgemm()} is false or the call fails
   */
  public static void sgemm(
      int transA,
      int transB,
      int m,
      int n,
      int k,
      float alpha,
      MemorySegment a,
      int lda,
      MemorySegment b,
      int ldb,
      float beta,
      MemorySegment c,
      int ldc) {
    MethodHandle h =
        Handles.SGEMM.orElseThrow(
            () -> new IllegalStateException("no cblas_sgemm in libtorch_cpu"));
    try {
      h.invokeExact(ROW_MAJOR, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cblas_sgemm failed", t);
    }
  }

  /**
   * Sets the thread count of the OpenBLAS libtorch's GEMMs use.
   *
   * @throws IllegalStateException when {@link #canSetThreads()} is false
   */
  public static void setThreads(int n) {
    MethodHandle h =
        Handles.SET_THREADS.orElseThrow(
            () -> new IllegalStateException("no openblas_set_num_threads in libtorch_cpu"));
    try {
      h.invokeExact(n);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("openblas_set_num_threads failed", t);
    }
  }

  /**
   * Sets the thread count in every copy of OpenBLAS the process mapped; false when none was found.
   */
  public static boolean setThreadsInEveryCopy(int n) {
    boolean set = false;
    for (MethodHandle h : Handles.SET_THREADS_EVERY_COPY) {
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
  public static List<Integer> threadsOfEveryCopy() {
    List<Integer> out = new ArrayList<>();
    for (String path : mapped(".*/libopenblas[^/]*\\.so(\\.[0-9]+)*")) {
      SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
      lib.find("openblas_get_num_threads")
          .ifPresent(
              symbol -> {
                try {
                  out.add(
                      (int)
                          Linker.nativeLinker()
                              .downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT))
                              .invokeExact());
                } catch (Throwable e) {
                  throw new IllegalStateException("openblas_get_num_threads failed in " + path, e);
                }
              });
    }
    return out;
  }

  /**
   * The mapped libraries whose paths match {@code pattern}, from /proc/self/maps (none where it
   * cannot be read).
   */
  private static List<String> mapped(String pattern) {
    try {
      return Files.readAllLines(Path.of("/proc/self/maps")).stream()
          .map(line -> line.substring(line.lastIndexOf(' ') + 1))
          .filter(p -> p.matches(pattern))
          .distinct()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** {@code name} as the dynamic linker resolves it for libtorch_cpu. */
  private static Optional<MethodHandle> throughLibtorch(
      String name, FunctionDescriptor descriptor) {
    try {
      return mapped(".*/libtorch_cpu\\.so").stream()
          .findFirst()
          .flatMap(torch -> SymbolLookup.libraryLookup(Path.of(torch), Arena.global()).find(name))
          .map(symbol -> Linker.nativeLinker().downcallHandle(symbol, descriptor));
    } catch (RuntimeException e) {
      // no libtorch_cpu to resolve through: callers take libtorch's own path
    }
    return Optional.empty();
  }

  private static List<MethodHandle> inEveryCopy(String name, FunctionDescriptor descriptor) {
    try {
      List<MethodHandle> out = new ArrayList<>();
      for (String path : mapped(".*/libopenblas[^/]*\\.so(\\.[0-9]+)*")) {
        SymbolLookup.libraryLookup(Path.of(path), Arena.global())
            .find(name)
            .map(symbol -> Linker.nativeLinker().downcallHandle(symbol, descriptor))
            .ifPresent(out::add);
      }
      return List.copyOf(out);
    } catch (RuntimeException e) {
      return List.of();
    }
  }
}
