package dev.latentstream.nativelib;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * The calling thread's CPU priority through libc ({@code gettid}, {@code setpriority}); any thread,
 * for itself.
 */
public final class ThreadPriority {

  private static final int PRIO_PROCESS = 0;

  private ThreadPriority() {}

  /**
   * Sets the calling thread's niceness (Linux: 0 normal to 19 lowest; raising it needs no
   * privilege). False where the platform has no per-thread {@code setpriority} or the call fails
   * (then nothing changes).
   */
  public static boolean setNiceness(int niceness) {
    Linker linker = Linker.nativeLinker();
    SymbolLookup libc = linker.defaultLookup();
    Optional<MemorySegment> gettid = libc.find("gettid");
    Optional<MemorySegment> setpriority = libc.find("setpriority");
    if (gettid.isEmpty() || setpriority.isEmpty()) {
      return false;
    }
    try {
      int tid =
          (int)
              linker
                  .downcallHandle(gettid.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT))
                  .invokeExact();
      int rc =
          (int)
              linker
                  .downcallHandle(
                      setpriority.get(),
                      FunctionDescriptor.of(
                          ValueLayout.JAVA_INT,
                          ValueLayout.JAVA_INT,
                          ValueLayout.JAVA_INT,
                          ValueLayout.JAVA_INT))
                  .invokeExact(PRIO_PROCESS, tid, niceness);
      return rc == 0;
    } catch (Throwable e) {
      return false;
    }
  }
}
