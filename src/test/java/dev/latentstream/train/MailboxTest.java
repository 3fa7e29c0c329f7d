package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.explore.LiveView;
import dev.latentstream.wire.SettingChange;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The trainer's inbox rations interactive requests by queue length and by trainer time per second.
 */
class MailboxTest {

  /** A clock the test moves: requests "cost" exactly what they add to it. */
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  final Mailbox mailbox = new Mailbox(new LiveView(null), nanos::get);

  CompletableFuture<Integer> request(int value, long costMs) {
    return mailbox.submit(
        live -> {
          nanos.addAndGet(costMs * 1_000_000L);
          return value;
        });
  }

  static BusyException busy(CompletableFuture<?> f) {
    assertTrue(f.isDone(), "refused at once, not queued");
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(0, TimeUnit.SECONDS));
    return assertInstanceOf(BusyException.class, e.getCause());
  }

  @Test
  void aFullQueueRefusesFurtherRequestsAtOnceWithARetryHint() throws Exception {
    mailbox.setBudget(4, 100);
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      all.add(request(i, 0));
    }
    assertEquals(4, mailbox.queued(), "the queue holds at most maxQueued requests");
    for (CompletableFuture<Integer> f : all.subList(0, 4)) {
      assertFalse(f.isDone(), "queued requests wait for the trainer thread");
    }
    for (CompletableFuture<Integer> f : all.subList(4, 10)) {
      BusyException b = busy(f);
      assertTrue(b.retryAfterMs() > 0, "retry hint " + b.retryAfterMs());
      assertTrue(b.getMessage().contains("at most 4"), b.getMessage());
    }
    assertTrue(mailbox.service(c -> {}));
    assertEquals(0, mailbox.queued());
    assertEquals(
        List.of(0, 1, 2, 3), all.subList(0, 4).stream().map(CompletableFuture::join).toList());
  }

  @Test
  void aSpentTimeBudgetRefusesRequestsUntilItRefills() throws Exception {
    mailbox.setBudget(10, 50);
    CompletableFuture<Integer> heavy = request(1, 80);
    mailbox.service(c -> {});
    assertEquals(1, heavy.get(0, TimeUnit.SECONDS));
    // 80 ms spent from 50 ms, less the 4 ms earned while it ran: 26 ms in debt, 520 ms to repay.
    BusyException b = busy(request(2, 0));
    assertEquals(521, b.retryAfterMs());
    nanos.addAndGet(500_000_000L);
    busy(request(3, 0));
    nanos.addAndGet(40_000_000L);
    CompletableFuture<Integer> later = request(4, 0);
    assertFalse(later.isDone());
    mailbox.service(c -> {});
    assertEquals(4, later.get(0, TimeUnit.SECONDS));
  }

  @Test
  void queuedRequestsBeyondTheBudgetWaitForALaterServiceInsteadOfDelayingTraining()
      throws Exception {
    mailbox.setBudget(10, 50);
    CompletableFuture<Integer> first = request(1, 60);
    CompletableFuture<Integer> second = request(2, 60);
    mailbox.service(c -> {});
    assertTrue(first.isDone());
    assertFalse(second.isDone(), "the budget ran out after the first request");
    assertEquals(1, mailbox.queued());
    nanos.addAndGet(1_000_000_000L);
    mailbox.service(c -> {});
    assertEquals(2, second.get(0, TimeUnit.SECONDS));
  }

  @Test
  void settingsAndStopAreNeverRationed() {
    mailbox.setBudget(1, 1);
    request(1, 500);
    mailbox.service(c -> {});
    busy(request(2, 0));
    List<String> applied = new ArrayList<>();
    mailbox.post(new SettingChange(-1, -1, "lr", 0.01));
    assertTrue(mailbox.service(c -> applied.add(c.key())));
    assertEquals(List.of("lr"), applied);
    mailbox.stop();
    assertFalse(mailbox.service(c -> {}));
  }

  @Test
  void requestsAfterTheEndFailAsEnded() {
    CompletableFuture<Integer> queued = request(1, 0);
    mailbox.close();
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> queued.get(0, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, e.getCause());
    ExecutionException after =
        assertThrows(ExecutionException.class, () -> request(2, 0).get(0, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, after.getCause());
  }

  @Test
  void budgetsOutsideTheirRangeAreRefusedByName() {
    IllegalArgumentException q =
        assertThrows(IllegalArgumentException.class, () -> mailbox.setBudget(0, 100));
    assertTrue(q.getMessage().contains("queue"), q.getMessage());
    IllegalArgumentException t =
        assertThrows(IllegalArgumentException.class, () -> mailbox.setBudget(4, 2000));
    assertTrue(t.getMessage().contains("ms per second"), t.getMessage());
  }
}
