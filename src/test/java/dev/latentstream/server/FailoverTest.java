package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.testing.ClusterNodes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The failover group of docs/cluster.md, for real: two trainer JVMs on one runs directory and a
 * gateway JVM, the three commands of the docs. The trainer that trains the default job is killed
 * with {@code kill -9} mid-epoch: the other takes the job over from its newest checkpoint, the
 * gateway shows it running there, metrics.csv holds each step once and a viewer gets a fresh
 * history. Then the killed node comes back and leaves the job to the node that owns it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 900, unit = TimeUnit.SECONDS) // three JVMs on a loaded machine
class FailoverTest {

  static ClusterNodes nodes;
  static Path runs;
  static int http;
  static Viewer viewer;
  static JsonObject before;
  static String owner;
  static String survivor;

  @BeforeAll
  static void start() throws Exception {
    nodes = new ClusterNodes("failover-test", 3);
    // Slow enough to be killed mid-epoch; a checkpoint every 2 s bounds what is lost.
    nodes.syntheticJob(
        "failover-vae",
        100_000,
        new JsonObject().put("checkpointEverySeconds", 2).put("batchSize", 8));
    runs = Files.createDirectories(nodes.dir.resolve("runs"));
    http = ClusterNodes.freePort();
    nodes.startFailoverGroup(runs, http, 300);
    await(() -> step(job()) > 40, 180, "the default job stepping on node a");
  }

  @AfterAll
  static void stop() {
    if (viewer != null) {
      viewer.close();
    }
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  @Order(1)
  void killingTheOwnerMovesTheJobToTheOtherNodeWithEachStepOnce() throws Exception {
    before = job();
    // The default job's start goes to either trainer (any trainer takes a start): kill its owner.
    String a = ClusterNodes.address(nodes.clusterPorts[0]);
    String b = ClusterNodes.address(nodes.clusterPorts[1]);
    owner = a.equals(before.getString("node")) ? "a" : "b";
    assertEquals(owner.equals("a") ? a : b, before.getString("node"), before.encode());
    survivor = owner.equals("a") ? b : a;
    assertEquals(0, before.getInteger("failovers"), before.encode());
    viewer =
        new Viewer("viewer", URI.create("ws://127.0.0.1:" + http + "/ws"), null, num(before), 1);
    await(() -> viewer.loss.histories() == 1, 60, "the viewer's first history");
    // Mid-epoch, past a checkpoint.
    await(
        () -> Files.exists(runs.resolve(before.getString("id")).resolve("checkpoint")),
        60,
        "a checkpoint");
    Thread.sleep(2500);
    long killedAt = System.nanoTime();
    nodes.kill(owner);
    await(
        () -> {
          JsonObject j = job();
          return survivor.equals(j.getString("node")) && "running".equals(j.getString("status"));
        },
        120,
        "the job running on node b");
    double takeover = (System.nanoTime() - killedAt) / 1e9;
    JsonObject after = job();
    assertEquals(1, after.getInteger("failovers"), after.encode());
    assertEquals(before.getString("id"), after.getString("id"));
    assertEquals(num(before), num(after));
    long resumedAt = after.getLong("resumedAtStep");
    await(() -> step(job()) > resumedAt + 20, 120, "the job stepping on node b");
    System.out.printf(
        "failover: job running on %s %.1f s after kill -9 of its owner, from step %d%n",
        survivor, takeover, resumedAt);
    await(() -> viewer.loss.histories() >= 2, 60, "a fresh history for the viewer");
    assertEquals(List.of(), viewer.loss.problems(), "history and live points meet");

    // Committed rows: each step once, rising without a gap.
    Path run = runs.resolve(after.getString("id"));
    await(() -> ClusterNodes.lastRow(run) > resumedAt + 20, 60, "node b's rows in metrics.csv");
    ClusterNodes.assertEachStepOnce(run);
    String lease = Files.readString(runs.resolve(after.getString("id")).resolve("lease.json"));
    assertTrue(lease.contains(survivor), "the run directory names its owner: " + lease);
  }

  @Test
  @Order(2)
  void aNodeThatComesBackLeavesTheJobToItsOwner() throws Exception {
    int port = owner.equals("a") ? nodes.clusterPorts[0] : nodes.clusterPorts[1];
    nodes.startTrainer(
        "again", port, runs, owner.equals("a") ? new String[0] : new String[] {"--no-job"});
    nodes.awaitLog("again", "trainer node is up", 300);
    nodes.awaitLog("again", "is owned by node " + survivor, 10);
    long at = step(job());
    await(() -> step(job()) > at + 10, 60, "the job still stepping");
    JsonArray all = ClusterNodes.jobs(http);
    assertEquals(1, all.size(), "no second default job: " + all.encode());
    JsonObject j = all.getJsonObject(0);
    assertEquals(survivor, j.getString("node"), j.encode());
    assertEquals(1, j.getInteger("failovers"), j.encode());
  }

  // --- helpers ----------------------------------------------------------------------------------

  static JsonObject job() {
    return ClusterNodes.job(http);
  }

  static int num(JsonObject j) {
    return j.getInteger("num");
  }

  static long step(JsonObject j) {
    return j.getLong("step", 0L);
  }

  static void await(BooleanSupplier condition, int seconds, String what)
      throws InterruptedException {
    ClusterNodes.await(condition, seconds, what, FailoverTest::job);
  }
}
