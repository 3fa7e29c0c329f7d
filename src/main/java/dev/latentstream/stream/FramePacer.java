package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * When one client's image frames go. A frame goes at once if its stream's window is open (the
 * subscription's rate), the socket is within its bound, the byte budget has credit and no other
 * stream of the socket waits; otherwise the subscription holds it, a newer frame replacing (and
 * counting as conflating) the one held. Held frames go when their window opens and there is room
 * and budget, the stream that has waited longest since its last frame first, across every job the
 * socket watches: one budget per socket, shared fairly, and the newest frame of a stream is never
 * lost.
 *
 * <p>Threads: owned by its {@link ClientSession}, on the hub's event loop. It reads the session's
 * subscriptions and keeps their held frames and send times; it writes only through the session's
 * {@link ClientSocket}.
 */
final class FramePacer {

  private final ClientSocket socket;

  /** The session's subscriptions by job (the session adds and removes them). */
  private final Map<Integer, Subscription> subscriptions;

  private final StreamCounters counters;

  /** The {@code plane} message to send just before a latent frame (null for none). */
  private final Function<FrameMessage, Encoded> planeOf;

  /** Told when frames are held, so that something comes back for them. */
  private final Runnable framesWaiting;

  /** In {@link #sendWaiting}: a write that completes at once calls back into it. */
  private boolean sendingWaiting;

  FramePacer(
      ClientSocket socket,
      Map<Integer, Subscription> subscriptions,
      StreamCounters counters,
      Function<FrameMessage, Encoded> planeOf,
      Runnable framesWaiting) {
    this.socket = socket;
    this.subscriptions = subscriptions;
    this.counters = counters;
    this.planeOf = planeOf;
    this.framesWaiting = framesWaiting;
  }

  /** A new frame of a stream the client subscribes to: sent now if it may go, else held. */
  void offer(FrameMessage m) {
    Subscription sub = subscriptions.get(m.job());
    if (!socket.open() || sub == null) {
      return;
    }
    // With other streams waiting for the budget, of this job or another the socket watches, this
    // one queues behind them (see sendWaiting): one budget per socket, shared by every job.
    if (noneWaiting() && canSend(sub, m.frame().kind(), System.nanoTime())) {
      write(sub, m);
      return;
    }
    if (sub.hold(m)) {
      counters.framesConflated++;
    }
    framesWaiting.run();
  }

  /**
   * Sends each held frame whose window has opened at {@code now}, while there is room and budget,
   * longest waiting first; true if any are still held.
   */
  boolean sendWaiting(long now) {
    if (sendingWaiting) {
      return true; // a write completed synchronously inside the loop below; it carries on there
    }
    sendingWaiting = true;
    try {
      record Waiting(Subscription sub, FrameKind kind, long lastSent) {}
      List<Waiting> all = new ArrayList<>();
      for (Subscription sub : subscriptions.values()) {
        for (FrameKind kind : sub.heldKinds()) {
          all.add(new Waiting(sub, kind, sub.lastSent(kind)));
        }
      }
      all.sort(Comparator.comparingLong(Waiting::lastSent));
      boolean still = false;
      for (Waiting w : all) {
        if (!socket.open()) {
          return false;
        }
        FrameMessage m = w.sub().held(w.kind());
        if (m == null) {
          continue; // sent or dropped meanwhile
        }
        if (subscriptions.get(m.job()) == w.sub() && canSend(w.sub(), w.kind(), now)) {
          write(w.sub(), w.sub().release(w.kind()));
        } else {
          still = true;
        }
      }
      return still;
    } finally {
      sendingWaiting = false;
    }
  }

  private boolean noneWaiting() {
    for (Subscription sub : subscriptions.values()) {
      if (sub.holdsFrames()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The window is open, there is room and budget, and the job's history (when owed) has gone first.
   */
  private boolean canSend(Subscription sub, FrameKind kind, long now) {
    return !socket.overBound() && sub.mayReceive(kind, now) && socket.hasBudget(now);
  }

  private void write(Subscription sub, FrameMessage m) {
    Buffer b = sub.sending(m, System.nanoTime());
    Encoded plane = planeOf.apply(m);
    if (plane != null) {
      socket.send(plane);
    }
    socket.sendBinary(b);
    counters.framesSent++;
  }
}
