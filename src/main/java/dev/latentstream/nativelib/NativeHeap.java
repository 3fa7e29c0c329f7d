package dev.latentstream.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the C heap holds: glibc's {@code mallinfo2}, where libtorch's CPU tensors live (its CPU
 * allocator calls {@code posix_memalign}). A count of bytes, so a test can say that a pass let go
 * of its activations, which the process's resident set (freed memory that malloc keeps) cannot. Any
 * thread; the figure is the whole process's.
 */
public final class NativeHeap {

  private NativeHeap() {}

  /** struct mallinfo2: ten size_t fields. */
  private static final MemoryLayout MALLINFO2 =
      MemoryLayout.structLayout(
          ValueLayout.JAVA_LONG.withName("arena"),
          ValueLayout.JAVA_LONG.withName("ordblks"),
          ValueLayout.JAVA_LONG.withName("smblks"),
          ValueLayout.JAVA_LONG.withName("hblks"),
          ValueLayout.JAVA_LONG.withName("hblkhd"),
          ValueLayout.JAVA_LONG.withName("usmblks"),
          ValueLayout.JAVA_LONG.withName("fsmblks"),
          ValueLayout.JAVA_LONG.withName("uordblks"),
          ValueLayout.JAVA_LONG.withName("fordblks"),
          ValueLayout.JAVA_LONG.withName("keepcost"));

  private static final int HBLKHD = 4;
  private static final int UORDBLKS = 7;

  private static final Optional<MethodHandle> MALLINFO2_HANDLE =
      Linker.nativeLinker()
          .defaultLookup()
          .find("mallinfo2")
          .map(s -> Linker.nativeLinker().downcallHandle(s, FunctionDescriptor.of(MALLINFO2)));

  /** glibc's {@code mallopt} parameter {@code M_MMAP_THRESHOLD}. */
  private static final int M_MMAP_THRESHOLD = -3;

  /** glibc's {@code mallopt} parameter {@code M_TRIM_THRESHOLD}. */
  private static final int M_TRIM_THRESHOLD = -1;

  private static final Optional<MethodHandle> MALLOPT_HANDLE =
      Linker.nativeLinker()
          .defaultLookup()
          .find("mallopt")
          .map(
              s ->
                  Linker.nativeLinker()
                      .downcallHandle(
                          s,
                          FunctionDescriptor.of(
                              ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));

  /**
   * Serves every allocation of at least {@code bytes} from a mapping of its own, unmapped when it
   * is freed ({@code mallopt(M_MMAP_THRESHOLD, bytes)}, glibc, at most 32 MiB), and lets each arena
   * keep up to twice that free at its top ({@code M_TRIM_THRESHOLD}): true when both are set.
   * Process-wide.
   *
   * <p>Why the mappings: by default glibc raises the mmap threshold to the largest block freed so
   * far (up to 32 MiB) and the trim threshold to twice that, so after the first pass over hundreds
   * of images every feature map below 32 MiB came from the arenas, and what the pass freed stayed
   * resident. The conv VAE's IWAE pass after training then peaked about 100 MiB above the PyTorch
   * peer's whole process, whose single-threaded passes reuse one contiguous heap
   * (docs/benchmarks.md). The cost is a page fault per 4 KiB of such a block every time one is
   * allocated, which is why a long pass runs in pieces below the threshold (the conv VAE's).
   *
   * <p>Why the trim threshold: setting the mmap threshold also stops glibc from raising the trim
   * threshold, which then stays at 128 KiB. A piece's freed feature maps at the top of an arena
   * went back to the system at once, and the next piece faulted the same pages in again: in the
   * conv VAE's test pass on an AMD EPYC VM oneDNN's reorders of 8 MB pieces took 22 ms each, a
   * fifth of their speed from reused memory. Twice the mmap threshold is glibc's own ratio; what a
   * pass leaves free is still given back after it ({@link #trim}).
   */
  public static boolean mapAllocationsFrom(int bytes) {
    if (MALLOPT_HANDLE.isEmpty()) {
      return false;
    }
    try {
      MethodHandle mallopt = MALLOPT_HANDLE.get();
      boolean mapped = (int) mallopt.invokeExact(M_MMAP_THRESHOLD, bytes) == 1;
      boolean kept = (int) mallopt.invokeExact(M_TRIM_THRESHOLD, 2 * bytes) == 1;
      return mapped && kept;
    } catch (Throwable e) {
      return false;
    }
  }

  private static final Optional<MethodHandle> MALLOC_TRIM_HANDLE =
      Linker.nativeLinker()
          .defaultLookup()
          .find("malloc_trim")
          .map(
              s ->
                  Linker.nativeLinker()
                      .downcallHandle(
                          s, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)));

  /**
   * Gives the free memory of every arena back to the system ({@code malloc_trim(0)}, glibc): true
   * when some was. Why: glibc keeps what a pass frees for the next allocations, so after a test
   * pass over two 500-image batches the process kept 117 MiB of feature maps it no longer used
   * until the next pass (TestScanMemoryTest). Costs the next pass the page faults of what it would
   * have reused. False where the C library has no {@code malloc_trim}.
   */
  public static boolean trim() {
    if (MALLOC_TRIM_HANDLE.isEmpty()) {
      return false;
    }
    try {
      return (int) MALLOC_TRIM_HANDLE.get().invokeExact(0L) == 1;
    } catch (Throwable e) {
      return false;
    }
  }

  /**
   * Bytes handed out by malloc and not yet freed, in every arena and in mmapped blocks ({@code
   * uordblks + hblkhd}); empty where the C library has no {@code mallinfo2} (not glibc 2.33+).
   */
  public static OptionalLong bytesInUse() {
    if (MALLINFO2_HANDLE.isEmpty()) {
      return OptionalLong.empty();
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info =
          (MemorySegment)
              MALLINFO2_HANDLE.get().invokeExact((java.lang.foreign.SegmentAllocator) arena);
      return OptionalLong.of(
          info.getAtIndex(ValueLayout.JAVA_LONG, UORDBLKS)
              + info.getAtIndex(ValueLayout.JAVA_LONG, HBLKHD));
    } catch (Throwable e) {
      return OptionalLong.empty();
    }
  }
}
