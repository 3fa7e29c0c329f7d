package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.buffer.Buffer;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * What a client receives of one job: its streams and frame rate, whether its history is owed or
 * sent, and the newest frame of each stream held back for later. A subscription replaced by a later
 * subscribe is told apart by identity.
 *
 * <p>Threads: owned by its {@link ClientSession}, on the hub's event loop. Others may read it; only
 * the session and its {@link FramePacer} (held frames, send times) change it.
 */
final class Subscription {

  private EnumSet<Stream> streams;
  private long frameIntervalNanos;

  /** Latent frames as point data (format 2) where the frame has it, else as the PNG. */
  private boolean latentPoints;

  /**
   * Its history is being prepared: live loss, epoch and setting messages wait (the history covers
   * them), and so do frames.
   */
  private boolean historyPending;

  /** It has had its history; a repeated subscribe never sends another. */
  private boolean historySent;

  /**
   * The last loss step this client has on this connection, from its history or live points (0 after
   * a history with none), or {@link #NO_HISTORY}: a live point that does not continue it by exactly
   * one is not sent, a fresh history is (see {@link #continuesAt}).
   */
  private long lastLossStep = NO_HISTORY;

  /** No history on this connection yet: no live point can continue it. */
  static final long NO_HISTORY = Long.MIN_VALUE;

  /** Gone live without a history (none could be built): its live points are not checked. */
  private static final long UNCHECKED = Long.MAX_VALUE;

  private final Map<FrameKind, FrameMessage> waiting = new EnumMap<>(FrameKind.class);
  private final Map<FrameKind, Long> lastSentNanos = new EnumMap<>(FrameKind.class);

  Subscription(EnumSet<Stream> streams, long frameIntervalNanos, boolean latentPoints) {
    this.streams = streams;
    this.frameIntervalNanos = frameIntervalNanos;
    this.latentPoints = latentPoints;
  }

  boolean takes(Stream s) {
    return streams.contains(s);
  }

  boolean historyPending() {
    return historyPending;
  }

  /**
   * Replaces the streams, rate and format; frames of dropped streams are forgotten. Returns the
   * streams it adds.
   */
  EnumSet<Stream> update(EnumSet<Stream> streams, long frameIntervalNanos, boolean latentPoints) {
    EnumSet<Stream> added = EnumSet.copyOf(streams);
    added.removeAll(this.streams);
    this.streams = streams;
    this.frameIntervalNanos = frameIntervalNanos;
    this.latentPoints = latentPoints;
    waiting.keySet().removeIf(kind -> !streams.contains(Stream.of(kind)));
    return added;
  }

  /** Takes {@code loss} and has neither had its history nor waits for it: now it waits. */
  boolean owesHistory() {
    if (!takes(Stream.loss) || historySent || historyPending) {
      return false;
    }
    historyPending = true;
    return true;
  }

  /** Waits for a (new) history if it takes {@code loss}; true if it does. */
  boolean awaitHistory() {
    if (!takes(Stream.loss)) {
      return false;
    }
    historyPending = true;
    return true;
  }

  /**
   * Its history has come, ending at {@code lastStep} (0 for one without loss points): it waits no
   * longer. True if it is to be sent (it still takes {@code loss}), which counts as sent.
   */
  boolean historyArrived(long lastStep) {
    historyPending = false;
    historySent |= takes(Stream.loss);
    if (takes(Stream.loss)) {
      lastLossStep = lastStep;
    }
    return takes(Stream.loss);
  }

  /**
   * No history can be had: it goes live without one, and its live points go unchecked until its
   * next history (checking them would only ask again for the history that cannot be built).
   */
  void abandonHistory() {
    historyPending = false;
    lastLossStep = UNCHECKED;
  }

  /**
   * Whether live loss points from {@code firstStep} continue what this client has: it has had a
   * history on this connection, and the points start right after its last step.
   */
  boolean continuesAt(long firstStep) {
    return lastLossStep == UNCHECKED
        || (lastLossStep != NO_HISTORY && firstStep == lastLossStep + 1);
  }

  /** Live loss points up to {@code lastStep} went out to it. */
  void sentLoss(long lastStep) {
    if (lastLossStep != UNCHECKED) {
      lastLossStep = lastStep;
    }
  }

  /** Holds {@code m} until it can go; true if it replaced (conflated) one held before. */
  boolean hold(FrameMessage m) {
    return waiting.put(m.frame().kind(), m) != null;
  }

  boolean holdsFrames() {
    return !waiting.isEmpty();
  }

  Set<FrameKind> heldKinds() {
    return waiting.keySet();
  }

  FrameMessage held(FrameKind kind) {
    return waiting.get(kind);
  }

  FrameMessage release(FrameKind kind) {
    return waiting.remove(kind);
  }

  /** When a frame of {@code kind} last went out (System.nanoTime), or {@code Long.MIN_VALUE}. */
  long lastSent(FrameKind kind) {
    return lastSentNanos.getOrDefault(kind, Long.MIN_VALUE);
  }

  /** Its frames may go: no history owed first, and the kind's window is open at {@code now}. */
  boolean mayReceive(FrameKind kind, long now) {
    Long last = lastSentNanos.get(kind);
    return !historyPending && (last == null || now - last >= frameIntervalNanos);
  }

  /** {@code m} goes out now: the bytes to send, as this subscription takes them. */
  Buffer sending(FrameMessage m, long now) {
    lastSentNanos.put(m.frame().kind(), now);
    return latentPoints && m.pointsFrame() != null ? m.pointsFrame() : m.wsFrame();
  }
}
