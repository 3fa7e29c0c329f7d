package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.stream.Protocol.Stream;
import io.vertx.core.http.ServerWebSocket;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One WebSocket client and everything it is owed. Back-pressure in one place:
 *
 * <ul>
 *   <li>Unsent bytes are counted ({@link ClientSocket}: written, not yet handed to the operating
 *       system). Past {@code writeQueueBytes} the client is over its bound: image frames wait, and
 *       its requests are answered {@code too_busy}. JSON messages, loss batches included, are never
 *       dropped; a client whose backlog grows past twice the bound, or that stays over it longer
 *       than {@code slowClientTimeoutMs}, is closed by the hub.
 *   <li>Image frames are capped per job and stream at the subscription's rate and conflated to the
 *       newest: a frame that cannot go yet replaces the one waiting, and the waiting one goes when
 *       its window opens and the socket has room, so the last frame is never lost ({@link
 *       FramePacer}).
 *   <li>Every byte sent counts against the client's budget ({@code viewerBytesPerSecond}, a token
 *       bucket holding at most one second's worth). Image frames wait while it is spent; when it
 *       refills, the stream that has waited longest goes first, so a heavy stream cannot starve the
 *       others. JSON messages are never held back by it, only counted.
 * </ul>
 *
 * <p>Threads: lives on the hub's event loop, like the hub. It owns its {@link ClientSocket}, its
 * {@link Subscription}s, its {@link FramePacer} and its {@link InteractiveShare}; the hub's other
 * classes change its state only through its methods.
 */
final class ClientSession {

  /** What a subscribe changed: the subscription (new or updated) and the streams it adds. */
  record Subscribed(Subscription sub, EnumSet<Stream> added) {}

  private final ClientSocket socket;
  private final InteractiveShare interactive = new InteractiveShare();
  private boolean authorized;
  private final Map<Integer, Subscription> subscriptions = new HashMap<>();

  /** When its image frames go (see {@link FramePacer}). */
  private final FramePacer pacer;

  ClientSession(
      ServerWebSocket ws,
      boolean authorized,
      int writeQueueBytes,
      int bytesPerSecond,
      StreamCounters counters,
      Function<FrameMessage, Encoded> planeOf,
      Runnable framesWaiting) {
    this.socket =
        new ClientSocket(
            ws, writeQueueBytes, bytesPerSecond, () -> sendWaitingFrames(System.nanoTime()));
    this.authorized = authorized;
    this.pacer = new FramePacer(socket, subscriptions, counters, planeOf, framesWaiting);
  }

  boolean authorized() {
    return authorized;
  }

  /** The client showed the token ({@code hello}): from now on it may control jobs. */
  void authorize() {
    authorized = true;
  }

  /** The job's subscription, or null. */
  Subscription subscription(int job) {
    return subscriptions.get(job);
  }

  /** Its share of the trainer's time for interactive requests. */
  InteractiveShare interactive() {
    return interactive;
  }

  /** Counts one more {@code too_busy} reply since it went over its bound; returns how many. */
  int countTooBusyReply() {
    return socket.countTooBusyReply();
  }

  /** Over its bound for longer than {@code ms} at {@code nowMillis}. */
  boolean overBoundLongerThan(long ms, long nowMillis) {
    return socket.overBoundLongerThan(ms, nowMillis);
  }

  /** Subscribed to the job's stream (live loss may still wait for the history). */
  boolean wants(int job, Stream s) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.takes(s);
  }

  /** Gets the job's live loss, epoch and setting messages now (its history has gone out). */
  boolean takesLive(int job, Stream s) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.takes(s) && !(s == Stream.loss && sub.historyPending());
  }

  boolean overBound() {
    return socket.overBound();
  }

  /** See {@link ClientSocket#overHardBound}. */
  boolean overHardBound() {
    return socket.overHardBound();
  }

  void send(ServerMessage message) {
    send(Encoded.of(message));
  }

  /** Sends a message encoded once for many sessions. */
  void send(Encoded m) {
    socket.send(m);
  }

  /** A new frame for a stream this client subscribes to: see {@link FramePacer#offer}. */
  void offerFrame(FrameMessage m) {
    pacer.offer(m);
  }

  /**
   * Sends each waiting frame whose window has opened, while there is room; true if any still wait
   * (see {@link FramePacer#sendWaiting}).
   */
  boolean sendWaitingFrames(long now) {
    return pacer.sendWaiting(now);
  }

  /**
   * One viewer's bytes per second: {@code perViewer}, or its equal share of {@code egress} (the
   * process's total, split over {@code hubs}) among {@code viewers} when that is less; 0 (no
   * budget) only when both are 0. The share never falls below 1.
   */
  static int budget(int perViewer, long egress, int hubs, int viewers) {
    if (egress <= 0) {
      return perViewer;
    }
    long share = Math.max(1, egress / Math.max(1, hubs) / Math.max(1, viewers));
    return (int) (perViewer == 0 ? Math.min(Integer.MAX_VALUE, share) : Math.min(perViewer, share));
  }

  /**
   * A new budget rate (see {@link #budget}); what is left of the current second stays within it.
   */
  void setBytesPerSecond(int rate) {
    socket.setBytesPerSecond(rate);
  }

  /**
   * Replaces the streams and rate of a subscription, or makes one; frames of dropped streams are
   * forgotten.
   */
  Subscribed subscribe(
      int job, EnumSet<Stream> streams, long frameIntervalNanos, boolean latentPoints) {
    Subscription sub = subscriptions.get(job);
    if (sub == null) {
      sub = new Subscription(streams, frameIntervalNanos, latentPoints);
      subscriptions.put(job, sub);
      return new Subscribed(sub, EnumSet.copyOf(streams));
    }
    return new Subscribed(sub, sub.update(streams, frameIntervalNanos, latentPoints));
  }

  /** {@link #subscribe(int, EnumSet, long, boolean)} with latent frames as points. */
  Subscription subscribe(int job, EnumSet<Stream> streams, long frameIntervalNanos) {
    return subscribe(job, streams, frameIntervalNanos, true).sub();
  }

  /**
   * A subscriber to the job's {@code loss} that has neither had its history nor waits for it now
   * owes it: until it is delivered ({@link #deliverHistory}) its live loss and frames wait. True if
   * it does.
   */
  boolean owesHistory(int job) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.owesHistory();
  }

  /**
   * The job's run replaced its history (a resumed run or a late gateway read its past): a loss
   * subscriber waits for the new one. True if this session now waits.
   */
  boolean awaitHistory(int job) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.awaitHistory();
  }

  /**
   * The history this session waits for, as messages encoded once for every waiting session, ending
   * at {@code lastStep} (0 for one without loss points): sent when it still takes {@code loss}, and
   * then the frames held back for it. Returns whether it was sent; either way the session waits no
   * longer.
   */
  boolean deliverHistory(int job, Supplier<List<Encoded>> messages, long lastStep) {
    Subscription sub = subscriptions.get(job);
    if (sub == null || !sub.historyPending() || !sub.historyArrived(lastStep)) {
      return false;
    }
    messages.get().forEach(this::send);
    sendWaitingFrames(System.nanoTime());
    return true;
  }

  /**
   * Live loss points {@code batch} of the job, if this session takes them live: sent when they
   * continue what it has (its last step, plus one); otherwise held back, and the session waits for
   * a fresh history that covers them (a gap, or no history on this connection yet). Returns false
   * only in that last case, when the caller owes it a history.
   */
  boolean offerLoss(int job, Columns batch, Supplier<Encoded> message) {
    Subscription sub = subscriptions.get(job);
    if (sub == null || !takesLive(job, Stream.loss)) {
      return true;
    }
    if (!sub.continuesAt(batch.firstStep())) {
      sub.awaitHistory();
      return false;
    }
    send(message.get());
    sub.sentLoss(batch.lastStep());
    return true;
  }

  /** The history could not be built: the session goes live without it rather than wait for ever. */
  void abandonHistory(int job) {
    Subscription sub = subscriptions.get(job);
    if (sub != null) {
      sub.abandonHistory();
    }
  }

  void unsubscribe(int job) {
    subscriptions.remove(job);
  }

  /** False once the socket is closed (see {@link ClientSocket#open}). */
  boolean open() {
    return socket.open();
  }

  /** The socket closed (its close handler ran): nothing more is written. */
  void socketClosed() {
    socket.socketClosed();
  }

  /** Stops writing now and closes the socket with {@code code} and {@code reason}. */
  void close(short code, String reason) {
    socket.close(code, reason);
  }
}
