package dev.latentstream.bus;

import dev.latentstream.testing.OnContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A gateway's {@link TrainerRoutes} on one Vert.x context, with trainer nodes faked on its event
 * bus: node A's heartbeat lists job 7 ({@value #ID}), node B's (alive) lists nothing yet. What a
 * test publishes here goes out from the routes' context, so the routes get it in that order. The
 * test closes it.
 */
final class RoutesOnOneContext implements AutoCloseable {

  static final String ID = "vae-mnist-7";

  final Vertx vertx;
  final TrainerRoutes routes;
  private final Context context;

  RoutesOnOneContext() {
    vertx = Vertx.vertx();
    Codecs.register(vertx);
    context = vertx.getOrCreateContext();
    routes = onContext(() -> new TrainerRoutes(vertx));
    beat("a", 7, 0); // A owns job 7
    beat("b", -1, 0); // B is alive and owns nothing yet
  }

  /**
   * {@code work}'s result, computed on the routes' context after everything published from there
   * before (each publish queues its delivery on that context, in order).
   */
  <T> T onContext(Callable<T> work) {
    return OnContext.call(context, work);
  }

  /** Publishes {@code message} to {@code address} from the routes' context. */
  void publish(String address, Object message) {
    onContext(
        () -> {
          vertx.eventBus().publish(address, message);
          return null;
        });
  }

  /** Node {@code n}'s heartbeat, listing job 7 (or nothing for a negative job). */
  void beat(String n, int job, int failovers) {
    publish(Addresses.FROM_TRAINER_HEARTBEAT, beatOf(n, job, failovers));
  }

  /** Job 7's status as node {@code n} publishes it. */
  void status(String n, int failovers) {
    publish(
        Addresses.FROM_TRAINER_EVENTS,
        new TrainerEvent.Status(7, job("host-" + n + ":5701", failovers)));
  }

  static JsonObject beatOf(String n, int job, int failovers) {
    return new JsonObject()
        .put("node", "node-" + n)
        .put("name", "host-" + n + ":5701")
        .put("jobs", job < 0 ? new JsonArray() : new JsonArray().add(job))
        .put("ids", job < 0 ? new JsonArray() : new JsonArray().add(ID))
        .put("failovers", job < 0 ? new JsonArray() : new JsonArray().add(failovers));
  }

  /** Job 7's status JSON, running on {@code node}. */
  static JsonObject job(String node, int failovers) {
    return new JsonObject()
        .put("num", 7)
        .put("id", ID)
        .put("status", "running")
        .put("node", node)
        .put("failovers", failovers);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
