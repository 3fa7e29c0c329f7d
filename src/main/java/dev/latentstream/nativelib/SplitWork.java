package dev.latentstream.nativelib;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs the chunks of one kernel on the calling thread and one helper thread: the elementwise passes
 * of a training step (Adam, BCE) run on one core while OpenBLAS's second thread waits for the next
 * GEMM, and they are memory- or exp-bound passes that split evenly. Chunks are claimed one at a
 * time, so a helper that wakes late (a parked thread takes some microseconds) just takes fewer of
 * them; each chunk's result goes to its own slot, so the outcome does not depend on who ran what.
 *
 * <p>Threads: {@link #forEach} is called by one owner thread at a time (the trainer's); the helper
 * parks between calls and uses no CPU then. Created on the owner thread, so it starts at that
 * thread's niceness. {@link #close} ends the helper; the owner closes it.
 */
public final class SplitWork implements AutoCloseable {

  /**
   * One call's chunks: the helper tells calls apart by identity, so a late claim never runs a new
   * call's chunk.
   */
  private static final class Job {
    final IntConsumer body;
    final int chunks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(IntConsumer body, int chunks) {
      this.body = body;
      this.chunks = chunks;
    }

    /** Runs chunks until none is left. */
    void work() {
      int i;
      while ((i = next.getAndIncrement()) < chunks) {
        try {
          body.accept(i);
        } catch (Throwable t) {
          failure = t;
        } finally {
          done.incrementAndGet();
        }
      }
    }
  }

  private final Thread helper;
  private volatile Job current;
  private volatile boolean closed;

  public SplitWork(String name) {
    helper = Thread.ofPlatform().name(name).daemon().unstarted(this::helperLoop);
    helper.start();
  }

  /**
   * Runs {@code body.accept(i)} for every {@code i} in {@code [0, chunks)}, on this thread and the
   * helper, and returns when all have run. A chunk's exception is rethrown here (the others still
   * run).
   */
  public void forEach(int chunks, IntConsumer body) {
    if (closed) {
      throw new IllegalStateException("this SplitWork is closed");
    }
    Job job = new Job(body, chunks);
    if (chunks > 1) {
      current = job;
      LockSupport.unpark(helper);
    }
    job.work();
    // What is left is in the helper's hands and running: at most one chunk's wait.
    while (job.done.get() < chunks) {
      Thread.onSpinWait();
    }
    Throwable t = job.failure;
    if (t instanceof RuntimeException e) {
      throw e;
    } else if (t instanceof Error e) {
      throw e;
    } else if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  private void helperLoop() {
    Job seen = null;
    while (!closed) {
      Job job = current;
      if (job != null && job != seen) {
        seen = job;
        job.work();
      } else {
        LockSupport.park(this);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(helper);
  }
}
