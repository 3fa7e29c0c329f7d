package dev.latentstream.stream;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;

/**
 * One client's WebSocket and what is owed on it: unsent bytes are counted ({@code queuedBytes}:
 * written, not yet handed to the operating system), and every byte sent counts against the client's
 * byte budget. Past {@code writeQueueBytes} the client is over its bound (see {@link ClientSession}
 * for what that holds back); a backlog written while over it that grows past the bound again, or a
 * stay over it that lasts too long, gets the client closed by its hub.
 *
 * <p>Threads: owned by its {@link ClientSession}, on the hub's event loop.
 */
final class ClientSocket {

  /**
   * WebSocket frames the server writes are at most this big (the customary limit clients accept).
   */
  static final int MAX_FRAME_BYTES = 65536;

  private final ServerWebSocket ws;
  private final int writeQueueBytes;

  /** The byte budget, bytes per second (rate 0: none); overdrawn by the last frame sent. */
  private final TokenBucket budget;

  /** Runs when a write completes with the socket back within its bound. */
  private final Runnable onRoom;

  /** Bytes written but not yet sent. */
  private long queuedBytes;

  /** Bytes written while over the bound (see {@link #overHardBound}). */
  private long backlogBytes;

  /** When the client went over its bound, or -1. */
  private long overSinceMillis = -1;

  /** {@code too_busy} replies since it went over its bound. */
  private int tooBusyReplies;

  private boolean closed;

  ClientSocket(ServerWebSocket ws, int writeQueueBytes, int bytesPerSecond, Runnable onRoom) {
    this.ws = ws;
    this.writeQueueBytes = writeQueueBytes;
    this.budget = new TokenBucket(bytesPerSecond, System.nanoTime());
    this.onRoom = onRoom;
  }

  /**
   * False once the socket is closed. The close handler that forgets the session runs a little after
   * the socket closes; a write in between would throw, and abort the fan-out to every later
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

  /** Over its bound for longer than {@code ms} at {@code nowMillis}. */
  boolean overBoundLongerThan(long ms, long nowMillis) {
    return overSinceMillis >= 0 && nowMillis - overSinceMillis > ms;
  }

  /** Counts one more {@code too_busy} reply since it went over its bound; returns how many. */
  int countTooBusyReply() {
    return ++tooBusyReplies;
  }

  /** A new budget rate; what is left of the current second stays within it. */
  void setBytesPerSecond(int rate) {
    budget.setRate(rate);
  }

  boolean hasBudget(long now) {
    return budget.rate() == 0 || budget.level(now) > 0;
  }

  /** Sends a JSON message encoded once for many sessions; nothing once closed. */
  void send(Encoded m) {
    if (!open()) {
      return;
    }
    if (m.text() != null) {
      track(m.bytes(), ws.writeTextMessage(m.text()), true);
      return;
    }
    // Fragments sliced from the shared bytes: the first frame must be a text frame, and the public
    // API builds those only from a String, so it carries the first character (JSON: one ASCII
    // byte) alone.
    Buffer b = m.utf8();
    ws.writeFrame(WebSocketFrame.textFrame(b.getString(0, 1), false));
    Future<Void> last = null;
    for (int from = 1; from < b.length(); from += MAX_FRAME_BYTES) {
      int to = Math.min(b.length(), from + MAX_FRAME_BYTES);
      last = ws.writeFrame(WebSocketFrame.continuationFrame(b.slice(from, to), to == b.length()));
    }
    track(m.bytes(), last, true);
  }

  /**
   * A binary message in frames of at most {@link #MAX_FRAME_BYTES}, sliced from the shared buffer.
   * The server reads frames as big as a whole message (so an oversized one closes with 1009), and
   * Vert.x would split what it writes at that size too; many clients refuse frames over 64 KiB.
   */
  void sendBinary(Buffer b) {
    if (b.length() <= MAX_FRAME_BYTES) {
      track(b.length(), ws.writeBinaryMessage(b), false);
      return;
    }
    ws.writeFrame(WebSocketFrame.binaryFrame(b.slice(0, MAX_FRAME_BYTES), false));
    Future<Void> last = null;
    for (int from = MAX_FRAME_BYTES; from < b.length(); from += MAX_FRAME_BYTES) {
      int to = Math.min(b.length(), from + MAX_FRAME_BYTES);
      last = ws.writeFrame(WebSocketFrame.continuationFrame(b.slice(from, to), to == b.length()));
    }
    track(b.length(), last, false);
  }

  /**
   * Counts a write against the bound and the budget. A JSON message ({@code text}) owes at most one
   * second of budget: charged in full, a newcomer's history would hold its first frames back for as
   * many seconds as its share is small. Frames are charged in full, so they keep to the budget.
   */
  private void track(int bytes, Future<Void> written, boolean text) {
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
            onRoom.run();
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
}
