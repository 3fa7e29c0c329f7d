package dev.latentstream.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.testing.OnContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ScanGuard} and {@link ScanFailures}: the failover scan of CI run 14, whose cluster read
 * never answered, must not keep every later scan from running; and failing scans are told at
 * WARNING, with their cause, without a line a second.
 */
class ScanGuardTest {

  /** A System.Logger that keeps what it is told. */
  static final class Lines implements System.Logger {
    final List<String> lines = new ArrayList<>();

    @Override
    public String getName() {
      return "test";
    }

    @Override
    public boolean isLoggable(Level level) {
      return true;
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
      lines.add(level + " " + msg);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
      lines.add(level + " " + format);
    }
  }

  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** One call of the guard, on {@code context} (the trainer verticle's, in the server). */
  private static void run(Context context, ScanGuard guard) {
    OnContext.call(
        context,
        () -> {
          guard.run();
          return null;
        });
  }

  @Test
  void aScanThatNeverCompletesIsGivenUpAndTheNextOneRuns() throws Exception {
    Lines log = new Lines();
    AtomicLong started = new AtomicLong();
    Context context = vertx.getOrCreateContext();
    ScanGuard guard =
        new ScanGuard(
            300,
            () -> {
              started.incrementAndGet();
              // A cluster read that does not answer (within the test): a future of this context.
              return vertx.timer(1, TimeUnit.HOURS).mapEmpty();
            },
            new ScanFailures(log, System::nanoTime));

    run(context, guard);
    run(context, guard); // the first is under way: not started again
    assertEquals(1L, OnContext.call(context, started::get));

    Thread.sleep(1000); // past the 300 ms limit
    run(context, guard);
    assertEquals(2L, OnContext.call(context, started::get), "a scan after the hung one");
    List<String> lines = OnContext.call(context, () -> List.copyOf(log.lines));
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.getFirst().startsWith("WARNING failover scan failed: "), lines.getFirst());
    assertTrue(lines.getFirst().contains("did not complete in time"), lines.getFirst());
  }

  @Test
  void aScanThatThrowsCountsAsFailedAndDoesNotBlockTheNext() throws Exception {
    Lines log = new Lines();
    AtomicLong calls = new AtomicLong();
    Context context = vertx.getOrCreateContext();
    ScanGuard guard =
        new ScanGuard(
            10_000,
            () -> {
              if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("maps not open");
              }
              return Future.succeededFuture();
            },
            new ScanFailures(log, System::nanoTime));
    run(context, guard);
    run(context, guard);
    assertEquals(2, calls.get());
    assertEquals(
        List.of(
            "WARNING failover scan failed: java.lang.IllegalStateException: maps not open",
            "INFO failover scans succeed again, after 1 failed"),
        OnContext.call(context, () -> List.copyOf(log.lines)));
  }

  @Test
  void failuresAreToldAtOnceThenAtMostEveryThirtySecondsWithTheirCount() {
    Lines log = new Lines();
    AtomicLong now = new AtomicLong();
    ScanFailures failures = new ScanFailures(log, now::get);
    RuntimeException refused =
        new RuntimeException(
            "wrapped",
            new IllegalStateException(
                "Split brain protection exception: latentstream-lease-majority has failed!"));
    for (int s = 0; s < 65; s++) { // one failed scan a second for 65 s
      now.set(TimeUnit.SECONDS.toNanos(s));
      failures.failed(refused);
    }
    failures.succeeded();
    assertEquals(4, log.lines.size(), log.lines.toString());
    assertTrue(
        log.lines.get(0).startsWith("WARNING failover scan failed: java.lang.RuntimeException"),
        log.lines.get(0));
    assertTrue(
        log.lines.get(0).contains("latentstream-lease-majority has failed!"),
        "names the wrapped cause: " + log.lines.get(0));
    assertTrue(
        log.lines.get(1).startsWith("WARNING failover scan failed 30 times since the last report"),
        log.lines.get(1));
    assertTrue(log.lines.get(2).contains("(61 in a row)"), log.lines.get(2));
    assertEquals("INFO failover scans succeed again, after 65 failed", log.lines.get(3));
  }

  @Test
  void rejectsATimeLimitThatIsNotPositive() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new ScanGuard(
                    0, Future::succeededFuture, new ScanFailures(new Lines(), System::nanoTime)));
    assertTrue(e.getMessage().contains("timeoutMs"), e.getMessage());
  }
}
