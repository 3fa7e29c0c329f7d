package dev.latentstream.jobs;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * What {@link Failover}'s scans fail with, told at WARNING without flooding the log through a long
 * outage: the first failure of a run at once, then at most one line every {@link #EVERY_MS} with
 * the number of failures since the last line; the first scan that succeeds after them says how many
 * there were. Each line names the cause (its chain, since a Hazelcast refusal arrives wrapped).
 * Owned by the {@link Failover}; used on the trainer verticle's context.
 */
final class ScanFailures {

  static final long EVERY_MS = 30_000;

  private final System.Logger log;
  private final LongSupplier nanoTime;

  /** Failures since the last success. */
  private long inARow;

  /** Failures since the last line. */
  private long sinceLine;

  private long lineNanos;

  ScanFailures(System.Logger log, LongSupplier nanoTime) {
    this.log = log;
    this.nanoTime = nanoTime;
  }

  void failed(Throwable cause) {
    inARow++;
    sinceLine++;
    long now = nanoTime.getAsLong();
    if (inARow > 1 && now - lineNanos < TimeUnit.MILLISECONDS.toNanos(EVERY_MS)) {
      return;
    }
    log.log(
        System.Logger.Level.WARNING,
        inARow == 1
            ? "failover scan failed: " + describe(cause)
            : "failover scan failed "
                + sinceLine
                + " times since the last report ("
                + inARow
                + " in a row): "
                + describe(cause));
    sinceLine = 0;
    lineNanos = now;
  }

  void succeeded() {
    if (inARow > 0) {
      log.log(
          System.Logger.Level.INFO, "failover scans succeed again, after " + inARow + " failed");
    }
    inARow = 0;
    sinceLine = 0;
  }

  /** The cause and what it wraps, class and message each. */
  static String describe(Throwable t) {
    if (t instanceof TimeoutException) {
      return "it did not complete in time, and was given up (" + t.getMessage() + ")";
    }
    StringBuilder out = new StringBuilder(t.toString());
    Throwable c = t.getCause();
    for (int depth = 0; c != null && c != t && depth < 4; depth++, t = c, c = c.getCause()) {
      out.append(" <- ").append(c);
    }
    return out.toString();
  }
}
