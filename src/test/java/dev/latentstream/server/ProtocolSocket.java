package dev.latentstream.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Predicate;

/**
 * A test's blocking WebSocket client of the protocol, whichever library carries it ({@link
 * TestServer.Client} on Vert.x, {@link ClusterTest.Client} on the JDK's): the requests tests send
 * again and again, written once over {@link #send} and {@link #next}.
 */
interface ProtocolSocket {

  void send(JsonObject m);

  /** The next JSON message matching {@code p}, skipping others; fails after the timeout. */
  JsonObject next(Predicate<JsonObject> p, long seconds) throws InterruptedException;

  default JsonObject nextType(String type, long seconds) throws InterruptedException {
    return next(j -> type.equals(j.getString("type")), seconds);
  }

  /** Subscribes, as request {@code id}, to {@code streams} of {@code job} (its num or id). */
  default void subscribe(Object id, Object job, String... streams) {
    send(
        new JsonObject()
            .put("type", "subscribe")
            .put("id", id)
            .put("job", job)
            .put("streams", new JsonArray(List.of((Object[]) streams))));
  }

  /** Sends {@code m} and returns the reply carrying its {@code id}. */
  default JsonObject ask(JsonObject m, long seconds) throws InterruptedException {
    send(m);
    String id = m.getString("id");
    return next(r -> id.equals(r.getString("id")), seconds);
  }
}
