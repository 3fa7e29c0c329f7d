package dev.latentstream.train;

import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.LiveView;
import dev.latentstream.wire.SettingChange;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.bytedeco.javacpp.PointerScope;

/**
 * The trainer's inbox from other threads: pause, resume, stop, live setting changes and interactive
 * requests against the live model. Any thread may post; only the trainer thread calls {@link
 * #service}, between steps, which runs the queued requests (each in its own {@code PointerScope})
 * and hands over the setting changes.
 *
 * <p>Interactive requests are rationed, so that no flood of them can stall training: at most {@code
 * maxQueued} wait at a time, and they may use at most {@code msPerSecond} of the trainer thread's
 * time per second, all clients together (a token bucket holding up to one second's worth). A
 * request beyond either limit fails at once with a {@link BusyException}. Setting changes and
 * pause/stop are never rationed.
 */
final class Mailbox {

  static final int DEFAULT_MAX_QUEUED = 32;
  static final int DEFAULT_MS_PER_SECOND = 100;

  private final LiveView live;
  private final LongSupplier nanoClock;
  private final ConcurrentLinkedQueue<Request<?>> requests = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final ConcurrentLinkedQueue<SettingChange> settings = new ConcurrentLinkedQueue<>();

  /** Released whenever there is something for a paused trainer thread to look at. */
  private final Semaphore signal = new Semaphore(0);

  private volatile boolean paused;
  private volatile boolean stopRequested;
  private volatile boolean closed;

  // The budget, guarded by this.
  private int maxQueued = DEFAULT_MAX_QUEUED;
  private int msPerSecond = DEFAULT_MS_PER_SECOND;
  private double tokensMs = DEFAULT_MS_PER_SECOND;
  private long refilledAt;

  /** Moving average of one request's cost, for the retry hint when the queue is full. */
  private double averageCostMs = 5;

  Mailbox(LiveView live) {
    this(live, System::nanoTime);
  }

  Mailbox(LiveView live, LongSupplier nanoClock) {
    this.live = live;
    this.nanoClock = nanoClock;
    this.refilledAt = nanoClock.getAsLong();
  }

  /**
   * @throws IllegalArgumentException when {@code maxQueued} is not from 1 to 10000 or {@code
   *     msPerSecond} not from 1 to 1000
   */
  synchronized void setBudget(int maxQueued, int msPerSecond) {
    if (maxQueued < 1 || maxQueued > 10_000) {
      throw new IllegalArgumentException(
          "interactive queue must hold from 1 to 10000 requests, got " + maxQueued);
    }
    if (msPerSecond < 1 || msPerSecond > 1000) {
      throw new IllegalArgumentException(
          "interactive budget must be from 1 to 1000 ms per second, got " + msPerSecond);
    }
    this.maxQueued = maxQueued;
    this.msPerSecond = msPerSecond;
    this.tokensMs = Math.min(tokensMs, msPerSecond);
  }

  void pause() {
    paused = true;
  }

  void resume() {
    paused = false;
    signal.release();
  }

  void stop() {
    stopRequested = true;
    signal.release();
  }

  boolean isPaused() {
    return paused;
  }

  /** Interactive requests waiting for the trainer thread. */
  int queued() {
    return queued.get();
  }

  /** A setting change for the trainer thread to apply before its next step. */
  void post(SettingChange change) {
    settings.add(change);
    signal.release();
  }

  /**
   * A request run on the trainer thread against the live model. The future fails with a {@link
   * BusyException} at once when the budget is spent or the queue full, and with an {@link
   * IllegalStateException} once the run has ended.
   */
  <T> CompletableFuture<T> submit(Function<LiveModel, T> request) {
    CompletableFuture<T> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new IllegalStateException("the run has ended"));
      return result;
    }
    BusyException busy = admit();
    if (busy != null) {
      result.completeExceptionally(busy);
      return result;
    }
    requests.add(new Request<>(request, result));
    signal.release();
    if (closed) {
      failPending();
    }
    return result;
  }

  /** Takes a queue slot, or says why not. */
  private synchronized BusyException admit() {
    refill();
    if (tokensMs <= 0) {
      long wait = (long) Math.ceil(-tokensMs * 1000.0 / msPerSecond) + 1;
      return new BusyException(
          "the trainer's time for interactive requests ("
              + msPerSecond
              + " ms per second) is used up; retry in "
              + wait
              + " ms",
          wait);
    }
    if (queued.get() >= maxQueued) {
      long wait =
          Math.max(1, (long) Math.ceil(averageCostMs * queued.get() * 1000.0 / msPerSecond));
      return new BusyException(
          "the trainer already has "
              + queued.get()
              + " interactive requests waiting (at most "
              + maxQueued
              + "); retry in "
              + wait
              + " ms",
          wait);
    }
    queued.incrementAndGet();
    return null;
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    tokensMs = Math.min(msPerSecond, tokensMs + (now - refilledAt) / 1e6 * msPerSecond / 1000.0);
    refilledAt = now;
  }

  private synchronized boolean hasBudget() {
    refill();
    return tokensMs > 0;
  }

  private synchronized void charge(long nanos) {
    double ms = nanos / 1e6;
    tokensMs -= ms;
    averageCostMs = 0.8 * averageCostMs + 0.2 * ms;
  }

  /**
   * On the trainer thread: runs queued requests while the budget lasts and passes pending setting
   * changes to {@code apply}; blocks while paused.
   *
   * @return false when a stop was requested
   */
  boolean service(Consumer<SettingChange> apply) {
    while (true) {
      runRequests();
      SettingChange c;
      while ((c = settings.poll()) != null) {
        apply.accept(c);
      }
      if (!paused || stopRequested) {
        return !stopRequested;
      }
      try {
        signal.tryAcquire(100, TimeUnit.MILLISECONDS);
        signal.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopRequested = true;
      }
    }
  }

  private void runRequests() {
    while (!requests.isEmpty() && hasBudget()) {
      Request<?> r = requests.poll();
      queued.decrementAndGet();
      long start = nanoClock.getAsLong();
      try (PointerScope scope = new PointerScope()) {
        r.run(live);
      }
      charge(nanoClock.getAsLong() - start);
    }
  }

  /**
   * The run has ended: the view closes and every request still queued fails with "the run has
   * ended".
   */
  void close() {
    closed = true;
    live.close();
    failPending();
  }

  private void failPending() {
    Request<?> r;
    while ((r = requests.poll()) != null) {
      queued.decrementAndGet();
      r.result().completeExceptionally(new IllegalStateException("the run has ended"));
    }
  }

  private record Request<T>(Function<LiveModel, T> body, CompletableFuture<T> result) {
    void run(LiveModel live) {
      try {
        result.complete(body.apply(live));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    }
  }
}
