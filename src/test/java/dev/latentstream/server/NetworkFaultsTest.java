package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latentstream.testing.ClusterNodes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Network faults between nodes (issue 21 §5), with network namespaces this test makes itself: a
 * trainer node in one, a gateway node in another, joined by a veth pair of their own ({@value
 * #TRAINER_IP}, {@value #GATEWAY_IP}); a second veth pair from this namespace to the gateway's
 * carries the viewer and REST traffic ({@value #OUTSIDE_IP} to {@value #GATEWAY_OUTSIDE_IP}). No
 * traffic leaves those namespaces. First 200 ms of latency on the link ({@code tc netem}, when the
 * kernel has it), then a 30 s partition ({@code ip link set down}): the viewer keeps its history
 * and its socket, the gateway shows the job {@code unreachable} and then running again, neither
 * node exits, and afterwards the job has one owner. Needs root and {@code ip} (CI runs as root).
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class NetworkFaultsTest {

  static final String TRAINER_IP = "10.213.0.1";
  static final String GATEWAY_IP = "10.213.0.2";
  static final String OUTSIDE_IP = "10.213.1.1";
  static final String GATEWAY_OUTSIDE_IP = "10.213.1.2";

  static final String SUFFIX = Long.toString(ProcessHandle.current().pid() % 100_000);
  static final String TRAINER_NS = "ls-trainer-" + SUFFIX;
  static final String GATEWAY_NS = "ls-gateway-" + SUFFIX;
  static final String LINK = "lst" + SUFFIX; // in the trainer's namespace
  static final String OUTSIDE = "lso" + SUFFIX; // in this one

  static ClusterNodes nodes;
  static boolean made;
  static int http;
  static Viewer viewer;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "network namespaces need root (CI runs as root); skipped as "
            + System.getProperty("user.name"));
    assumeTrue(
        run("ip", "-V") == 0, "needs iproute2's ip to make network namespaces and veth pairs");
    made = true;
    sh("ip", "netns", "add", TRAINER_NS);
    sh("ip", "netns", "add", GATEWAY_NS);
    sh("ip", "link", "add", LINK, "type", "veth", "peer", "name", LINK + "g");
    sh("ip", "link", "set", LINK, "netns", TRAINER_NS);
    sh("ip", "link", "set", LINK + "g", "netns", GATEWAY_NS);
    sh("ip", "link", "add", OUTSIDE, "type", "veth", "peer", "name", OUTSIDE + "g");
    sh("ip", "link", "set", OUTSIDE + "g", "netns", GATEWAY_NS);
    in(TRAINER_NS, "ip", "addr", "add", TRAINER_IP + "/24", "dev", LINK);
    in(TRAINER_NS, "ip", "link", "set", LINK, "up");
    in(TRAINER_NS, "ip", "link", "set", "lo", "up");
    in(GATEWAY_NS, "ip", "addr", "add", GATEWAY_IP + "/24", "dev", LINK + "g");
    in(GATEWAY_NS, "ip", "link", "set", LINK + "g", "up");
    in(GATEWAY_NS, "ip", "addr", "add", GATEWAY_OUTSIDE_IP + "/24", "dev", OUTSIDE + "g");
    in(GATEWAY_NS, "ip", "link", "set", OUTSIDE + "g", "up");
    in(GATEWAY_NS, "ip", "link", "set", "lo", "up");
    sh("ip", "addr", "add", OUTSIDE_IP + "/24", "dev", OUTSIDE);
    sh("ip", "link", "set", OUTSIDE, "up");

    nodes = new ClusterNodes("network-faults", 2);
    nodes.syntheticJob(
        "netfault-vae",
        100_000,
        new JsonObject().put("checkpointEverySeconds", 2).put("batchSize", 8));
    String members = TRAINER_IP + ":5701," + GATEWAY_IP + ":5702";
    http = ClusterNodes.freePort();
    nodes.start(
        "trainer",
        List.of("ip", "netns", "exec", TRAINER_NS),
        "trainer",
        5701,
        members,
        nodes.dir,
        Map.of("LATENTSTREAM_RUNS_DIR", nodes.dir.resolve("runs").toString()),
        "--cluster-host",
        TRAINER_IP);
    nodes.start(
        "gateway",
        List.of("ip", "netns", "exec", GATEWAY_NS),
        "gateway",
        5702,
        members,
        nodes.dir,
        Map.of("LATENTSTREAM_RUNS_DIR", nodes.dir.resolve("gateway-runs").toString()),
        "--cluster-host",
        GATEWAY_IP,
        "--host",
        GATEWAY_OUTSIDE_IP,
        "--port",
        Integer.toString(http));
    nodes.awaitLog("trainer", "trainer node is up", 300);
    nodes.awaitLog("gateway", "serving at", 300);
    await(() -> step(job()) > 10, 180, "the job stepping, seen through the gateway");
  }

  @AfterAll
  static void stop() {
    if (viewer != null) {
      viewer.close();
    }
    if (nodes != null) {
      nodes.close();
    }
    if (made) {
      // The veth pairs go with their namespaces; the outside end goes with its peer.
      run("ip", "netns", "del", TRAINER_NS);
      run("ip", "netns", "del", GATEWAY_NS);
      run("ip", "link", "del", OUTSIDE);
    }
  }

  @Test
  void latencyThenAPartitionLeaveViewersTheirHistoryAndTheJobOneOwner() throws Exception {
    int num = job().getInteger("num");
    viewer =
        new Viewer(
            "viewer", URI.create("ws://" + GATEWAY_OUTSIDE_IP + ":" + http + "/ws"), null, num, 7);
    await(() -> viewer.loss.histories() == 1, 60, "the viewer's history");
    long seen = viewer.loss.lastStep();
    await(() -> viewer.loss.lastStep() > seen + 5, 60, "live points");

    // 200 ms each way between the nodes: slower, but nothing breaks.
    if (in(TRAINER_NS, "tc", "qdisc", "add", "dev", LINK, "root", "netem", "delay", "200ms") == 0) {
      long before = viewer.loss.lastStep();
      await(() -> viewer.loss.lastStep() > before + 10, 60, "live points over 200 ms latency");
      assertEquals("running", job().getString("status"), job().encode());
      in(TRAINER_NS, "tc", "qdisc", "del", "dev", LINK, "root");
    } else {
      System.out.println(
          "network faults: this kernel has no netem (sch_netem); the 200 ms latency step is skipped");
    }

    // A 30 s partition between the trainer and the gateway.
    long histories = viewer.loss.histories();
    int connections = viewer.connections();
    in(TRAINER_NS, "ip", "link", "set", LINK, "down");
    long cutAt = System.nanoTime();
    try {
      await(() -> "unreachable".equals(job().getString("status")), 30, "the job unreachable");
      System.out.printf(
          "network faults: unreachable %.1f s into the partition%n",
          (System.nanoTime() - cutAt) / 1e9);
      while (System.nanoTime() - cutAt < TimeUnit.SECONDS.toNanos(30)) {
        Thread.sleep(500);
      }
      assertEquals(connections, viewer.connections(), "the viewer kept its socket");
      assertTrue(viewer.loss.histories() >= histories, "the viewer kept its history");
    } finally {
      in(TRAINER_NS, "ip", "link", "set", LINK, "up");
    }
    long healedAt = System.nanoTime();
    long before = step(job());
    await(
        () -> "running".equals(job().getString("status")) && step(job()) > before,
        180,
        "the job running again after the partition healed");
    System.out.printf(
        "network faults: running again %.1f s after the partition healed%n",
        (System.nanoTime() - healedAt) / 1e9);
    long live = viewer.loss.lastStep();
    await(() -> viewer.loss.lastStep() > live + 5, 120, "live points after the partition");
    assertEquals(List.of(), viewer.loss.problems(), "no gap or repeat in the viewer's steps");
    assertTrue(nodes.process("trainer").isAlive(), "the trainer node did not exit");
    assertTrue(nodes.process("gateway").isAlive(), "the gateway node did not exit");
    JsonArray all = jobs();
    assertEquals(1, all.size(), "one job: " + all.encode());
    JsonObject j = all.getJsonObject(0);
    assertEquals(TRAINER_IP + ":5701", j.getString("node"), "one owner: " + j.encode());
    String lease =
        Files.readString(
            nodes.dir.resolve("runs").resolve(j.getString("id")).resolve("lease.json"));
    assertTrue(lease.contains(TRAINER_IP), lease);
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** The gateway's {@code GET /api/jobs}, from this namespace. */
  static JsonArray jobs() throws Exception {
    HttpResponse<String> r =
        ClusterNodes.HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://" + GATEWAY_OUTSIDE_IP + ":" + http + "/api/jobs"))
                .timeout(java.time.Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new JsonArray(r.body());
  }

  static JsonObject job() {
    try {
      JsonArray all = jobs();
      return all.isEmpty() ? new JsonObject() : all.getJsonObject(0);
    } catch (Exception e) {
      return new JsonObject();
    }
  }

  static long step(JsonObject j) {
    return j.getLong("step", 0L);
  }

  static void await(BooleanSupplier condition, int seconds, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("not within " + seconds + " s: " + what + "; last: " + job());
      }
      Thread.sleep(200);
    }
  }

  static int in(String ns, String... cmd) {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    all.addAll(List.of(cmd));
    return run(all.toArray(String[]::new));
  }

  static void sh(String... cmd) {
    int rc = run(cmd);
    if (rc != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited " + rc);
    }
  }

  static int run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      int rc = p.waitFor();
      if (rc != 0) {
        System.out.println("network faults: " + String.join(" ", cmd) + ": " + out.strip());
      }
      return rc;
    } catch (Exception e) {
      return -1;
    }
  }
}
