package dev.latentstream.bus;

import static dev.latentstream.bus.RoutesOnOneContext.ID;
import static dev.latentstream.bus.RoutesOnOneContext.job;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A failover seen from a gateway: node A owned job 7 and fell silent, node B took it over. The
 * job's commands go where the newest evidence of its owner says, whichever kind it is and in
 * whatever order the old owner's evidence arrives.
 */
class TrainerRoutesTest {

  private RoutesOnOneContext gateway;

  @BeforeEach
  void start() {
    gateway = new RoutesOnOneContext();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  @Test
  void aHeartbeatRoutesTheJobsItListsToItsNode() {
    assertEquals(Addresses.toTrainer("node-a"), addressByNum());
    assertEquals(Addresses.toTrainer("node-a"), addressById());
  }

  @Test
  void theTakersStatusRoutesTheJobToItBeforeItsHeartbeatNamesTheJob() {
    gateway.status("b", 1);
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
    assertEquals(Addresses.toTrainer("node-b"), addressById());
  }

  @Test
  void aLateHeartbeatOrStatusOfTheOldOwnerDoesNotRouteTheJobBack() {
    gateway.status("b", 1);
    gateway.beat("a", 7, 0); // the cut-off node, back before it lets the job go
    gateway.status("a", 0); // or the gateway's own unreachable copy of A's last status
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
    assertEquals(Addresses.toTrainer("node-b"), addressById());
    gateway.beat("b", 7, 1);
    gateway.beat("a", -1, 0); // A let the job go
    assertEquals(Addresses.toTrainer("node-b"), addressByNum());
  }

  @Test
  void aStatusNamingANodeNotYetHeardRetiresTheOldOwnerUntilThatNodeBeats() {
    gateway.publish(
        Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Status(7, job("host-c:5703", 1)));
    assertEquals(Addresses.TO_TRAINER, addressByNum());
    gateway.publish(
        Addresses.FROM_TRAINER_HEARTBEAT,
        new JsonObject()
            .put("node", "node-c")
            .put("name", "host-c:5703")
            .put("jobs", new JsonArray().add(7))
            .put("ids", new JsonArray().add(ID))
            .put("failovers", new JsonArray().add(1)));
    assertEquals(Addresses.toTrainer("node-c"), addressByNum());
  }

  @Test
  void aJobItsNodeNoLongerListsGoesToAnyTrainer() {
    gateway.beat("a", -1, 0);
    assertEquals(Addresses.TO_TRAINER, addressByNum());
    assertEquals(Addresses.TO_TRAINER, addressById());
  }

  private String addressByNum() {
    return gateway.onContext(
        () -> gateway.routes.address(new TrainerCommand.ReadRunFile(7, "metrics.csv", 0, 1)));
  }

  private String addressById() {
    return gateway.onContext(
        () -> gateway.routes.address(new TrainerCommand.ReadRunFile(ID, "metrics.csv", 0, 1)));
  }
}
