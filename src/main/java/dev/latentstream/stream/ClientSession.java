package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.train.FrameKind;
import io.vertx.core.http.ServerWebSocket;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;

/**
 * One WebSocket client. Back-pressure: image frames are conflated per job and stream while the socket
 * is unwritable (the latest wins and goes out on drain); JSON messages, loss batches included, are
 * always queued and never dropped. A client that stays unwritable longer than the limit is closed.
 */
final class ClientSession {

  final ServerWebSocket ws;
  boolean authorized;
  final Map<Integer, EnumSet<Stream>> subscriptions = new HashMap<>();
  private final Map<Integer, Map<FrameKind, FrameMessage>> pendingFrames = new HashMap<>();
  long unwritableSinceMillis = -1;
  private final StreamHub.Counters counters;
  boolean closed;

  ClientSession(ServerWebSocket ws, boolean authorized, StreamHub.Counters counters) {
    this.ws = ws;
    this.authorized = authorized;
    this.counters = counters;
    ws.drainHandler(v -> drain());
  }

  boolean wants(int job, Stream s) {
    EnumSet<Stream> set = subscriptions.get(job);
    return set != null && set.contains(s);
  }

  void send(ServerMessage message) {
    sendText(message.toJson().encode());
  }

  /** Sends text encoded once for many sessions. */
  void sendText(String text) {
    if (open()) {
      ws.writeTextMessage(text);
      noteWritability();
    }
  }

  void offerFrame(FrameMessage m) {
    if (!open()) {
      return;
    }
    if (ws.writeQueueFull()) {
      FrameMessage previous = pendingFrames.computeIfAbsent(m.job(), k -> new EnumMap<>(FrameKind.class))
          .put(m.frame().kind(), m);
      if (previous != null) {
        counters.framesConflated++;
      }
      noteWritability();
      return;
    }
    ws.writeBinaryMessage(m.wsFrame());
    counters.framesSent++;
    noteWritability();
  }

  /**
   * False once the socket is closed. The close handler that forgets this session runs a little after the
   * socket closes; a write in between would throw, and abort the fan-out to every later session.
   */
  private boolean open() {
    if (!closed && ws.isClosed()) {
      closed = true;
    }
    return !closed;
  }

  private void drain() {
    unwritableSinceMillis = -1;
    Map<Integer, Map<FrameKind, FrameMessage>> pending = new HashMap<>(pendingFrames);
    pendingFrames.clear();
    pending.values().forEach(byKind -> byKind.values().forEach(this::offerFrame));
  }

  private void noteWritability() {
    if (ws.writeQueueFull()) {
      if (unwritableSinceMillis < 0) {
        unwritableSinceMillis = System.currentTimeMillis();
      }
    } else {
      unwritableSinceMillis = -1;
    }
  }

  void unsubscribe(int job) {
    subscriptions.remove(job);
    pendingFrames.remove(job);
  }
}
