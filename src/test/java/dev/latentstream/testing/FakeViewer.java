package dev.latentstream.testing;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A viewer on a {@link FakeSockets} socket, for tests of a hub without a server: it records each
 * text message the hub sends it (a fragmented one once whole) and sends frames as the client would.
 * A test hands {@link #socket()} to the hub on the hub's context and calls {@link #send} there too;
 * what it received may be read from any thread.
 */
public final class FakeViewer {

  private final List<JsonObject> received = new CopyOnWriteArrayList<>();
  private final StringBuilder fragments = new StringBuilder();
  private final ServerWebSocket socket;

  /** Where the viewer's frames go (set on the hub's context when it attaches the socket). */
  private Handler<WebSocketFrame> toServer;

  public FakeViewer() {
    socket =
        FakeSockets.open(
            written -> {
              if (written instanceof String text) {
                received.add(new JsonObject(text));
              } else if (written instanceof WebSocketFrame f) {
                fragments.append(f.textData());
                if (f.isFinal()) {
                  received.add(new JsonObject(fragments.toString()));
                  fragments.setLength(0);
                }
              }
              return Future.succeededFuture();
            },
            frames -> toServer = frames);
  }

  /** The socket to attach to the hub. */
  public ServerWebSocket socket() {
    return socket;
  }

  /** Sends {@code message} as one text frame; the hub must have attached {@link #socket()}. */
  public void send(JsonObject message) {
    if (toServer == null) {
      throw new IllegalStateException("no hub has attached the viewer's socket yet");
    }
    toServer.handle(WebSocketFrame.textFrame(message.encode(), true));
  }

  /** Subscribes (as {@code "s"}) to job {@code job}'s loss stream. */
  public void subscribeToLoss(int job) {
    send(
        new JsonObject()
            .put("type", "subscribe")
            .put("id", "s")
            .put("job", job)
            .put("streams", new JsonArray().add("loss")));
  }

  /** Every text message received so far, in order (a live view). */
  public List<JsonObject> received() {
    return received;
  }

  /** How many {@code history} messages have come. */
  public long histories() {
    return received.stream().filter(m -> "history".equals(m.getString("type"))).count();
  }

  /** The latest {@code history} message; throws if none has come. */
  public JsonObject lastHistory() {
    return received.stream()
        .filter(m -> "history".equals(m.getString("type")))
        .reduce((a, b) -> b)
        .orElseThrow();
  }

  /** The last step of the latest history or loss message (0 for an empty history, -1 for none). */
  public long lastStep() {
    for (JsonObject m : received.reversed()) {
      String type = m.getString("type", "");
      if (type.equals("loss") || type.equals("history")) {
        JsonArray steps = m.getJsonObject("columns").getJsonArray("step");
        return steps.isEmpty() ? 0 : steps.getLong(steps.size() - 1);
      }
    }
    return -1;
  }

  /** The last step of the latest loss message (-1 for none). */
  public long lastLive() {
    for (JsonObject m : received.reversed()) {
      if ("loss".equals(m.getString("type"))) {
        JsonArray steps = m.getJsonObject("columns").getJsonArray("step");
        return steps.getLong(steps.size() - 1);
      }
    }
    return -1;
  }
}
