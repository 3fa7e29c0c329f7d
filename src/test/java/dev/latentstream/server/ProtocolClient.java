package dev.latentstream.server;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * An asynchronous test client of the WebSocket protocol: requests get fresh ids and resolve with
 * their reply (an {@code error} reply too: tests check its code); other messages and binary frames
 * are awaited with {@link #next}/{@link #nextFrame}, and everything received stays in {@link
 * #received}. Runs on the caller's Vert.x event loop.
 */
final class ProtocolClient {

  final WebSocket ws;
  private final WebSocketClient client;

  /** Every JSON message and binary frame received, in order. */
  final List<Object> received = new ArrayList<>();

  private final Map<String, Promise<JsonObject>> pending = new HashMap<>();
  private final List<Waiter> waiters = new ArrayList<>();
  private int nextId = 1;

  private record Waiter(Predicate<Object> wanted, Promise<Object> promise) {}

  private ProtocolClient(WebSocket ws, WebSocketClient client) {
    this.ws = ws;
    this.client = client;
    ws.textMessageHandler(text -> deliver(new JsonObject(text)));
    ws.binaryMessageHandler(this::deliver);
  }

  /** Connects to {@code /ws} with an optional query (e.g. {@code token=...}). */
  static Future<ProtocolClient> open(Vertx vertx, int port, String query) {
    WebSocketClient client =
        vertx.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(64 << 20));
    // Handlers go on before connecting, so the welcome message cannot slip past them.
    ClientWebSocket ws = client.webSocket();
    ProtocolClient c = new ProtocolClient(ws, client);
    return ws.connect(
            new WebSocketConnectOptions()
                .setHost("127.0.0.1")
                .setPort(port)
                .setURI("/ws" + (query == null ? "" : "?" + query)))
        .map(v -> c);
  }

  /** Sends {@code message} with a fresh {@code id}; completes with the reply carrying that id. */
  Future<JsonObject> request(JsonObject message) {
    String id = "r" + nextId++;
    Promise<JsonObject> p = Promise.promise();
    pending.put(id, p);
    ws.writeTextMessage(message.copy().put("id", id).encode());
    return p.future();
  }

  void send(JsonObject message) {
    ws.writeTextMessage(message.encode());
  }

  /** The first JSON message of {@code type} matching {@code p}, already received or to come. */
  Future<JsonObject> next(String type, Predicate<JsonObject> p) {
    return await(o -> o instanceof JsonObject j && type.equals(j.getString("type")) && p.test(j))
        .map(o -> (JsonObject) o);
  }

  Future<JsonObject> next(String type) {
    return next(type, j -> true);
  }

  /**
   * The first binary frame of {@code kind} (1 recon, 2 samples, 3 latent, 4 manifold), received or
   * to come.
   */
  Future<Buffer> nextFrame(int kind) {
    return await(o -> o instanceof Buffer b && b.getByte(1) == kind).map(o -> (Buffer) o);
  }

  private Future<Object> await(Predicate<Object> wanted) {
    for (Object o : received) {
      if (wanted.test(o)) {
        return Future.succeededFuture(o);
      }
    }
    Promise<Object> p = Promise.promise();
    waiters.add(new Waiter(wanted, p));
    return p.future();
  }

  private void deliver(Object o) {
    if (o instanceof JsonObject j && j.getString("id") != null) {
      Promise<JsonObject> p = pending.remove(j.getString("id"));
      if (p != null) {
        p.complete(j);
        return;
      }
    }
    received.add(o);
    List<Waiter> ready = new ArrayList<>();
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.wanted.test(o)) {
        it.remove();
        ready.add(w);
      }
    }
    // Completed outside the loop: a continuation may start waiting for the next message.
    ready.forEach(w -> w.promise.complete(o));
  }

  Future<Void> close() {
    return ws.close().compose(v -> client.close());
  }
}
