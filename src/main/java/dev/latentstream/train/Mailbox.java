package dev.latentstream.train;

import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.LiveView;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;

/**
 * The trainer's inbox from other threads: pause, resume, stop, live setting changes and interactive
 * requests against the live model. Any thread may post; only the trainer thread calls {@link #service},
 * between steps, which runs the queued requests (each in its own {@code PointerScope}) and hands over
 * the setting changes.
 */
final class Mailbox {

  private final LiveView live;
  private final LinkedBlockingQueue<Runnable> requests = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<SettingChange> settings = new ConcurrentLinkedQueue<>();
  private volatile boolean paused;
  private volatile boolean stopRequested;
  private volatile boolean closed;

  Mailbox(LiveView live) {
    this.live = live;
  }

  void pause() {
    paused = true;
  }

  void resume() {
    paused = false;
    wake();
  }

  void stop() {
    stopRequested = true;
    wake();
  }

  boolean isPaused() {
    return paused;
  }

  boolean isClosed() {
    return closed;
  }

  /** A setting change for the trainer thread to apply before its next step. */
  void post(SettingChange change) {
    settings.add(change);
    wake();
  }

  /** A request run on the trainer thread against the live model; fails once the run has ended. */
  <T> CompletableFuture<T> submit(Function<LiveModel, T> request) {
    CompletableFuture<T> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new IllegalStateException("the run has ended"));
      return result;
    }
    requests.add(() -> {
      try {
        result.complete(request.apply(live));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    if (closed) {
      failPending();
    }
    return result;
  }

  /** Wakes a paused trainer thread so it looks at the flags again. */
  private void wake() {
    requests.add(() -> {});
  }

  /**
   * On the trainer thread: runs queued requests and passes pending setting changes to {@code apply};
   * blocks while paused.
   *
   * @return false when a stop was requested
   */
  boolean service(Consumer<SettingChange> apply) {
    do {
      Runnable r;
      try {
        r = paused && !stopRequested ? requests.poll(100, TimeUnit.MILLISECONDS) : requests.poll();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopRequested = true;
        r = null;
      }
      while (r != null) {
        try (PointerScope scope = new PointerScope()) {
          r.run();
        }
        r = requests.poll();
      }
      SettingChange c;
      while ((c = settings.poll()) != null) {
        apply.accept(c);
      }
    } while (paused && !stopRequested);
    return !stopRequested;
  }

  /**
   * The run has ended: requests still queued run against the closed view, so each future fails with
   * "the run has ended".
   */
  void close() {
    closed = true;
    live.close();
    failPending();
  }

  private void failPending() {
    Runnable r;
    while ((r = requests.poll()) != null) {
      try {
        r.run();
      } catch (RuntimeException ignored) {
        // the request's own future already carries the failure
      }
    }
  }
}
