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
   * Its history has come: it waits no longer. True if it is to be sent (it still takes {@code
   * loss}), which counts as sent.
   */
  boolean historyArrived() {
    historyPending = false;
    historySent |= takes(Stream.loss);
    return takes(Stream.loss);
  }

  /** No history can be had: it goes live without one. */
  void abandonHistory() {
    historyPending = false;
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
