package dev.latentstream.jobs;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs {@link Failover}'s scans one at a time, and never lets one that hangs stop the rest: a scan
 * still under way is not started again, and one that has not completed after {@code timeoutMs} is
 * given up (its steps still under way finish on their own), so the next call starts a fresh one.
 * Each outcome goes to a {@link ScanFailures}. Owned by the {@link Failover}; used on the trainer
 * verticle's context.
 */
final class ScanGuard {

  private final long timeoutMs;
  private final Supplier<Future<Void>> scan;
  private final ScanFailures failures;
  private boolean scanning;

  ScanGuard(long timeoutMs, Supplier<Future<Void>> scan, ScanFailures failures) {
    if (timeoutMs <= 0) {
      throw new IllegalArgumentException("timeoutMs must be positive, got " + timeoutMs);
    }
    this.timeoutMs = timeoutMs;
    this.scan = scan;
    this.failures = failures;
  }

  /** Starts a scan unless one is under way (and not yet given up). */
  void run() {
    if (scanning) {
      return;
    }
    scanning = true;
    Future<Void> started;
    try {
      started = scan.get();
    } catch (RuntimeException e) {
      started = Future.failedFuture(e);
    }
    started
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .onComplete(
            ar -> {
              scanning = false;
              if (ar.succeeded()) {
                failures.succeeded();
              } else {
                failures.failed(ar.cause());
              }
            });
  }
}
