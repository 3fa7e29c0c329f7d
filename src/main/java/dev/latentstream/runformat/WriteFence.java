package dev.latentstream.runformat;

import java.io.IOException;

/**
 * Lets a write into a run directory happen only while its writer still owns the run: a failover
 * group's trainer node passes one that checks its fencing token as part of the write ({@code
 * rundir.RunFence}); a lone process passes {@link #NONE}.
 */
@FunctionalInterface
public interface WriteFence {

  /** A write into the run directory. */
  @FunctionalInterface
  interface Write {
    void run() throws IOException;
  }

  /**
   * Runs {@code write} if this writer owns the run, else throws (an unchecked exception that names
   * the owner) without running it.
   */
  void commit(Write write) throws IOException;

  /** Every write runs: the process is the run's only writer (its {@code run.lock} says so). */
  WriteFence NONE = Write::run;
}
