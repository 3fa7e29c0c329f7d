package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentstream.testing.OnContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A failover seen from a gateway: node A owned job 7 and fell silent, node B took it over. The
 * job's commands go where the newest evidence of its owner says, whichever kind it is and in
 * whatever order the old owner's evidence arrives.
 */
class TrainerRoutesTest {

  private static final String ID = "vae-mnist-7";

  private Vertx vertx;
  private Context context;
  private TrainerRoutes routes;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    Codecs.register(vertx);
    context = vertx.getOrCreateContext();
    routes = onContext(() -> new TrainerRoutes(vertx));
    beat("a", 7, 0); // A owns job 7
    beat("b", -1, 0); // B is alive and owns nothing yet
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aHeartbeatRoutesTheJobsItListsToItsNode() {
    assertEquals(Addresses.toTrainer("node-a"), addressByNum());
    assertEquals(Addresses.toTrainer("node-a"), addressById());
  }

  @Test
  void theTakersStatusRoutesTheJobToItBeforeItsHeartbeatNamesTheJob() {
    status("b", 1);
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
    assertEquals(Addresses.toTrainer("node-b"), addressById());
  }

  @Test
  void aLateHeartbeatOrStatusOfTheOldOwnerDoesNotRouteTheJobBack() {
    status("b", 1);
    beat("a", 7, 0); // the cut-off node, back before it lets the job go
    status("a", 0); // or the gateway's own unreachable copy of A's last status
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
    assertEquals(Addresses.toTrainer("node-b"), addressById());
    beat("b", 7, 1);
    beat("a", -1, 0); // A let the job go
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
  }

  @Test
  void aStatusNamingANodeNotYetHeardRetiresTheOldOwnerUntilThatNodeBeats() {
    onContext(
        () -> {
          vertx
              .eventBus()
              .publish(
                  Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Status(7, job("host-c:5703", 1)));
          return null;
        });
    assertEquals(Addresses.TO_TRAINER, addressByNum());
    onContext(
        () -> {
          vertx
              .eventBus()
              .publish(
                  Addresses.FROM_TRAINER_HEARTBEAT,
                  new JsonObject()
                      .put("node", "node-c")
                      .put("name", "host-c:5703")
                      .put("jobs", new JsonArray().add(7))
                      .put("ids", new JsonArray().add(ID))
                      .put("failovers", new JsonArray().add(1)));
          return null;
        });
    assertEquals(Addresses.toTrainer("node-c"), addressByNum());
  }

  @Test
  void aJobItsNodeNoLongerListsGoesToAnyTrainer() {
    beat("a", -1, 0);
    assertEquals(Addresses.TO_TRAINER, addressByNum());
    assertEquals(Addresses.TO_TRAINER, addressById());
  }

  private String addressByNum() {
    return onContext(() -> routes.address(new TrainerCommand.ReadRunFile(7, "metrics.csv", 0, 1)));
  }

  private String addressById() {
    return onContext(() -> routes.address(new TrainerCommand.ReadRunFile(ID, "metrics.csv", 0, 1)));
  }

  /** Node {@code n}'s heartbeat, listing job 7 (or nothing for a negative job). */
  private void beat(String n, int job, int failovers) {
    onContext(
        () -> {
          vertx.eventBus().publish(Addresses.FROM_TRAINER_HEARTBEAT, beatOf(n, job, failovers));
          return null;
        });
  }

  static JsonObject beatOf(String n, int job, int failovers) {
    return new JsonObject()
        .put("node", "node-" + n)
        .put("name", "host-" + n + ":5701")
        .put("jobs", job < 0 ? new JsonArray() : new JsonArray().add(job))
        .put("ids", job < 0 ? new JsonArray() : new JsonArray().add(ID))
        .put("failovers", job < 0 ? new JsonArray() : new JsonArray().add(failovers));
  }

  /** Job 7's status as node {@code n} publishes it. */
  private void status(String n, int failovers) {
    onContext(
        () -> {
          vertx
              .eventBus()
              .publish(
                  Addresses.FROM_TRAINER_EVENTS,
                  new TrainerEvent.Status(7, job("host-" + n + ":5701", failovers)));
          return null;
        });
  }

  static JsonObject job(String node, int failovers) {
    return new JsonObject()
        .put("num", 7)
        .put("id", ID)
        .put("status", "running")
        .put("node", node)
        .put("failovers", failovers);
  }

  /**
   * Runs {@code work} on the routes' context, after everything published from there before (each
   * publish queues its delivery on that context, in order).
   */
  private <T> T onContext(Callable<T> work) {
    return OnContext.call(context, work);
  }
}
