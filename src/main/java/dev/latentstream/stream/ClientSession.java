package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One WebSocket client and everything it is owed. Back-pressure in one place:
 *
 * <ul>
 *   <li>Unsent bytes are counted ({@link #queuedBytes}: written, not yet handed to the operating
 *       system). Past {@code writeQueueBytes} the client is over its bound: image frames wait, and
 *       its requests are answered {@code too_busy}. JSON messages, loss batches included, are never
 *       dropped; a client whose backlog grows past twice the bound, or that stays over it longer
 *       than {@code slowClientTimeoutMs}, is closed by the hub.
 *   <li>Image frames are capped per job and stream at the subscription's rate and conflated to the
 *       newest: a frame that cannot go yet replaces the one waiting, and the waiting one goes when
 *       its window opens and the socket has room, so the last frame is never lost.
 *   <li>Every byte sent counts against the client's budget ({@code viewerBytesPerSecond}, a token
 *       bucket holding at most one second's worth). Image frames wait while it is spent; when it
 *       refills, the stream that has waited longest goes first, so a heavy stream cannot starve the
 *       others. JSON messages are never held back by it, only counted.
 * </ul>
 *
 * Lives on the hub's event loop, like the hub.
 */
final class ClientSession {

  /**
   * What a client receives of one job. Others may read it; only its session changes it, so a
   * subscription replaced by a later subscribe is told apart by identity.
   */
  static final class Subscription {
    private EnumSet<Stream> streams;
    private long frameIntervalNanos;

    /** Latent frames as point data (format 2) where the frame has it, else as the PNG. */
    private boolean latentPoints = true;

    /**
     * Its history is being prepared: live loss, epoch and setting messages wait (the history covers
     * them).
     */
    private boolean historyPending;

    /** It has had its history; a repeated subscribe never sends another. */
    private boolean historySent;

    private final Map<FrameKind, FrameMessage> waiting = new EnumMap<>(FrameKind.class);
    private final Map<FrameKind, Long> lastSentNanos = new EnumMap<>(FrameKind.class);

    Subscription(EnumSet<Stream> streams, long frameIntervalNanos) {
      this.streams = streams;
      this.frameIntervalNanos = frameIntervalNanos;
    }

    boolean takes(Stream s) {
      return streams.contains(s);
    }

    boolean historyPending() {
      return historyPending;
    }
  }

  /** What a subscribe changed: the subscription (new or updated) and the streams it adds. */
  record Subscribed(Subscription sub, EnumSet<Stream> added) {}

  /**
   * WebSocket frames the server writes are at most this big (the customary limit clients accept).
   */
  static final int MAX_FRAME_BYTES = 65536;

  private final ServerWebSocket ws;
  private boolean authorized;
  private final Map<Integer, Subscription> subscriptions = new HashMap<>();

  /** Bytes written but not yet sent; see the class comment. */
  private long queuedBytes;

  /** Bytes written while over the bound (see {@link #overHardBound}). */
  private long backlogBytes;

  /** When the client went over its bound, or -1. */
  private long overSinceMillis = -1;

  /** {@code too_busy} replies since it went over its bound. */
  private int tooBusyReplies;

  /** Interactive model requests sent to the trainer and not answered yet. */
  private int interactiveInFlight;

  /**
   * The trainer time (ms) this client may still spend on interactive requests: one second's worth
   * at most, below 0 after an expensive request until it has been paid back. Null until the first
   * request.
   */
  private TokenBucket interactive;

  private boolean closed;
  private boolean sendingWaiting;
  private final int writeQueueBytes;

  /** The byte budget, bytes per second (rate 0: none); overdrawn by the last frame sent. */
  private final TokenBucket budget;

  private final StreamHub.Counters counters;

  /** The {@code plane} message to send just before a latent frame (null for none). */
  private final Function<FrameMessage, Encoded> planeOf;

  /** Told when frames are waiting for their window, so that something comes back for them. */
  private final Runnable framesWaiting;

  ClientSession(
      ServerWebSocket ws,
      boolean authorized,
      int writeQueueBytes,
      int bytesPerSecond,
      StreamHub.Counters counters,
      Function<FrameMessage, Encoded> planeOf,
      Runnable framesWaiting) {
    this.ws = ws;
    this.authorized = authorized;
    this.writeQueueBytes = writeQueueBytes;
    this.budget = new TokenBucket(bytesPerSecond, System.nanoTime());
    this.counters = counters;
    this.planeOf = planeOf;
    this.framesWaiting = framesWaiting;
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

  /** Interactive model requests sent to the trainer and not answered yet. */
  int interactiveInFlight() {
    return interactiveInFlight;
  }

  /**
   * An interactive request goes to the trainer: it counts as in flight and is charged {@code
   * estimateMs} up front (see {@link #chargeInteractive}) until {@link #interactiveAnswered}.
   */
  void interactiveSent(double estimateMs) {
    chargeInteractive(estimateMs);
    interactiveInFlight++;
  }

  /** The trainer answered (or refused) an interactive request. */
  void interactiveAnswered() {
    interactiveInFlight--;
  }

  /** Counts one more {@code too_busy} reply since it went over its bound; returns how many. */
  int countTooBusyReply() {
    return ++tooBusyReplies;
  }

  /** Over its bound for longer than {@code ms} at {@code nowMillis}. */
  boolean overBoundLongerThan(long ms, long nowMillis) {
    return overSinceMillis >= 0 && nowMillis - overSinceMillis > ms;
  }

  /**
   * How long this client must wait before it may ask the trainer again, given its share of {@code
   * msPerSecond} of trainer time; 0 when it may ask now.
   */
  long interactiveWaitMs(int msPerSecond, long nowNanos) {
    if (interactive == null) {
      interactive = new TokenBucket(msPerSecond, nowNanos);
    }
    interactive.level(nowNanos);
    return interactive.msUntilCredit();
  }

  /**
   * Charges trainer time to this client: a request's expected cost when it goes to the trainer, the
   * difference when the trainer reports what it took, a refund (negative) when it was not run. The
   * credit is held to one second's worth at the next refill.
   */
  void chargeInteractive(double ms) {
    if (interactive != null) {
      interactive.take(ms);
    }
  }

  /** Subscribed to the job's stream (live loss may still wait for the history). */
  boolean wants(int job, Stream s) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.streams.contains(s);
  }

  /** Gets the job's live loss, epoch and setting messages now (its history has gone out). */
  boolean takesLive(int job, Stream s) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.streams.contains(s) && !(s == Stream.loss && sub.historyPending);
  }

  boolean overBound() {
    return queuedBytes > writeQueueBytes;
  }

  /**
   * Messages that cannot be dropped, written while already over the bound, now add up to more than
   * the bound: the hub closes the client rather than let its backlog grow. So a client never holds
   * more than about twice {@code writeQueueBytes} (plus the one message that crossed the bound).
   */
  boolean overHardBound() {
    return backlogBytes > writeQueueBytes;
  }

  void send(ServerMessage message) {
    send(Encoded.of(message));
  }

  /** Sends a message encoded once for many sessions. */
  void send(Encoded m) {
    if (!open()) {
      return;
    }
    if (m.text() != null) {
      track(m.bytes(), ws.writeTextMessage(m.text()), true);
      return;
    }
    // Fragments sliced from the shared bytes: the first frame must be a text frame, and the public
    // API
    // builds those only from a String, so it carries the first character (JSON: one ASCII byte)
    // alone.
    Buffer b = m.utf8();
    ws.writeFrame(WebSocketFrame.textFrame(b.getString(0, 1), false));
    io.vertx.core.Future<Void> last = null;
    for (int from = 1; from < b.length(); from += MAX_FRAME_BYTES) {
      int to = Math.min(b.length(), from + MAX_FRAME_BYTES);
      last = ws.writeFrame(WebSocketFrame.continuationFrame(b.slice(from, to), to == b.length()));
    }
    track(m.bytes(), last, true);
  }

  private void track(int bytes, io.vertx.core.Future<Void> written) {
    track(bytes, written, false);
  }

  /**
   * Counts a write against the bound and the budget. A JSON message ({@code text}) owes at most one
   * second of budget: charged in full, a newcomer's history would hold its first frames back for as
   * many seconds as its share is small (20 s for 400 KB at 20 KB/s). Frames are charged in full, so
   * they keep to the budget.
   */
  private void track(int bytes, io.vertx.core.Future<Void> written, boolean text) {
    if (text) {
      budget.takeOwingAtMostASecond(bytes);
    } else {
      budget.take(bytes);
    }
    if (overBound()) {
      backlogBytes += bytes;
    }
    queuedBytes += bytes;
    noteBound();
    written.onComplete(
        ar -> {
          queuedBytes -= bytes;
          noteBound();
          if (!overBound()) {
            sendWaitingFrames(System.nanoTime());
          }
        });
  }

  private void noteBound() {
    if (overBound()) {
      if (overSinceMillis < 0) {
        overSinceMillis = System.currentTimeMillis();
      }
    } else {
      overSinceMillis = -1;
      tooBusyReplies = 0;
      backlogBytes = 0;
    }
  }

  /**
   * A new frame for a stream this client subscribes to: sent now if its window is open and there is
   * room.
   */
  void offerFrame(FrameMessage m) {
    Subscription sub = subscriptions.get(m.job());
    if (!open() || sub == null) {
      return;
    }
    FrameKind kind = m.frame().kind();
    // With other streams waiting for the budget, of this job or another the socket watches, this
    // one queues
    // behind them (see sendWaitingFrames): one budget per socket, shared by every job it watches.
    if (noneWaiting() && canSend(sub, kind, System.nanoTime())) {
      write(sub, m);
      return;
    }
    if (sub.waiting.put(kind, m) != null) {
      counters.framesConflated++;
    }
    framesWaiting.run();
  }

  private boolean noneWaiting() {
    for (Subscription sub : subscriptions.values()) {
      if (!sub.waiting.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Sends each waiting frame whose window has opened, while there is room; true if any still wait.
   * The stream that has waited longest since its last frame goes first, across every job the socket
   * watches, so a socket watching several jobs (a compare view) shares its one budget among them.
   */
  boolean sendWaitingFrames(long now) {
    if (sendingWaiting) {
      return true; // a write completed synchronously inside the loop below; it carries on from
      // there
    }
    sendingWaiting = true;
    try {
      record Waiting(Subscription sub, FrameKind kind, long lastSent) {}
      List<Waiting> all = new java.util.ArrayList<>();
      for (Subscription sub : subscriptions.values()) {
        for (FrameKind kind : sub.waiting.keySet()) {
          all.add(new Waiting(sub, kind, sub.lastSentNanos.getOrDefault(kind, Long.MIN_VALUE)));
        }
      }
      all.sort(java.util.Comparator.comparingLong(Waiting::lastSent));
      boolean still = false;
      for (Waiting w : all) {
        if (!open()) {
          return false;
        }
        FrameMessage m = w.sub().waiting.get(w.kind());
        if (m == null) {
          continue; // sent or dropped meanwhile
        }
        if (subscriptions.get(m.job()) == w.sub() && canSend(w.sub(), w.kind(), now)) {
          write(w.sub(), w.sub().waiting.remove(w.kind()));
        } else {
          still = true;
        }
      }
      return still;
    } finally {
      sendingWaiting = false;
    }
  }

  /**
   * The window is open, there is room and budget, and the job's history (when owed) has gone first.
   */
  private boolean canSend(Subscription sub, FrameKind kind, long now) {
    Long last = sub.lastSentNanos.get(kind);
    return !overBound()
        && !sub.historyPending
        && (last == null || now - last >= sub.frameIntervalNanos)
        && hasBudget(now);
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
    budget.setRate(rate);
  }

  private boolean hasBudget(long now) {
    return budget.rate() == 0 || budget.level(now) > 0;
  }

  /**
   * A binary message in frames of at most {@link #MAX_FRAME_BYTES}, sliced from the shared buffer.
   * The server reads frames as big as a whole message (so an oversized one closes with 1009), and
   * Vert.x would split what it writes at that size too; many clients refuse frames over 64 KiB.
   */
  private io.vertx.core.Future<Void> writeBinary(Buffer b) {
    if (b.length() <= MAX_FRAME_BYTES) {
      return ws.writeBinaryMessage(b);
    }
    ws.writeFrame(WebSocketFrame.binaryFrame(b.slice(0, MAX_FRAME_BYTES), false));
    io.vertx.core.Future<Void> last = null;
    for (int from = MAX_FRAME_BYTES; from < b.length(); from += MAX_FRAME_BYTES) {
      int to = Math.min(b.length(), from + MAX_FRAME_BYTES);
      last = ws.writeFrame(WebSocketFrame.continuationFrame(b.slice(from, to), to == b.length()));
    }
    return last;
  }

  private void write(Subscription sub, FrameMessage m) {
    sub.lastSentNanos.put(m.frame().kind(), System.nanoTime());
    Encoded plane = planeOf.apply(m);
    if (plane != null) {
      send(plane);
    }
    Buffer b = sub.latentPoints && m.pointsFrame() != null ? m.pointsFrame() : m.wsFrame();
    track(b.length(), writeBinary(b));
    counters.framesSent++;
  }

  /**
   * Replaces the streams and rate of a subscription, or makes one; frames of dropped streams are
   * forgotten.
   */
  Subscribed subscribe(
      int job, EnumSet<Stream> streams, long frameIntervalNanos, boolean latentPoints) {
    Subscription sub = subscriptions.get(job);
    EnumSet<Stream> added = EnumSet.copyOf(streams);
    if (sub == null) {
      sub = new Subscription(streams, frameIntervalNanos);
      subscriptions.put(job, sub);
    } else {
      added.removeAll(sub.streams);
      sub.streams = streams;
      sub.frameIntervalNanos = frameIntervalNanos;
      sub.waiting.keySet().removeIf(kind -> !streams.contains(Stream.of(kind)));
    }
    sub.latentPoints = latentPoints;
    return new Subscribed(sub, added);
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
    if (sub == null
        || !sub.streams.contains(Stream.loss)
        || sub.historySent
        || sub.historyPending) {
      return false;
    }
    sub.historyPending = true;
    return true;
  }

  /**
   * The job's run replaced its history (a resumed run or a late gateway read its past): a loss
   * subscriber waits for the new one. True if this session now waits.
   */
  boolean awaitHistory(int job) {
    Subscription sub = subscriptions.get(job);
    if (sub == null || !sub.streams.contains(Stream.loss)) {
      return false;
    }
    sub.historyPending = true;
    return true;
  }

  /** Waiting for the job's history. */
  boolean awaitsHistory(int job) {
    Subscription sub = subscriptions.get(job);
    return sub != null && sub.historyPending;
  }

  /**
   * The history this session waits for, as messages encoded once for every waiting session: sent
   * when it still takes {@code loss}, and then the frames held back for it. Returns whether it was
   * sent; either way the session waits no longer.
   */
  boolean deliverHistory(int job, java.util.function.Supplier<List<Encoded>> messages) {
    Subscription sub = subscriptions.get(job);
    if (sub == null || !sub.historyPending) {
      return false;
    }
    sub.historyPending = false;
    if (!sub.streams.contains(Stream.loss)) {
      return false;
    }
    messages.get().forEach(this::send);
    sub.historySent = true;
    sendWaitingFrames(System.nanoTime());
    return true;
  }

  /** The history could not be built: the session goes live without it rather than wait for ever. */
  void abandonHistory(int job) {
    Subscription sub = subscriptions.get(job);
    if (sub != null) {
      sub.historyPending = false;
    }
  }

  void unsubscribe(int job) {
    subscriptions.remove(job);
  }

  /**
   * False once the socket is closed. The close handler that forgets this session runs a little
   * after the socket closes; a write in between would throw, and abort the fan-out to every later
   * session.
   */
  boolean open() {
    if (!closed && ws.isClosed()) {
      closed = true;
    }
    return !closed;
  }

  /** The socket closed (its close handler ran): nothing more is written. */
  void socketClosed() {
    closed = true;
  }

  /** Stops writing now and closes the socket with {@code code} and {@code reason}. */
  void close(short code, String reason) {
    closed = true;
    if (!ws.isClosed()) {
      ws.close(code, reason);
    }
  }
}
