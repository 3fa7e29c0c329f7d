package dev.latentstream.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Event-loop delay: a timer due every {@link #PERIOD_MS} ms on each gateway's event loop records
 * how late it fires. A loop blocked by slow work shows up here long before clients time out.
 */
final class EventLoopDelay {

  static final long PERIOD_MS = 100;

  private final MeterRegistry registry;
  private final Set<String> watched = ConcurrentHashMap.newKeySet();

  EventLoopDelay(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Starts measuring the loop of {@code context}, once per loop thread; call on that context. */
  void watch(Context context) {
    String thread = Thread.currentThread().getName();
    if (!watched.add(thread)) {
      return;
    }
    Timer timer =
        Timer.builder("latentstream.event.loop.delay")
            .tag("thread", thread)
            .description("How late a timer due every " + PERIOD_MS + " ms fires on this event loop")
            .register(registry);
    schedule(context, timer);
  }

  private void schedule(Context context, Timer timer) {
    long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PERIOD_MS);
    context
        .owner()
        .setTimer(
            PERIOD_MS,
            id -> {
              timer.record(Math.max(0, System.nanoTime() - due), TimeUnit.NANOSECONDS);
              schedule(context, timer);
            });
  }
}
