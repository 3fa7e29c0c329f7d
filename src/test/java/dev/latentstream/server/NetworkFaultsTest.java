package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.ClusterNodes;
import dev.latentstream.testing.LinkDelay;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
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
 * Network faults between nodes (issue 21 §5), with network namespaces this test makes itself: two
 * trainer nodes of one failover group (one runs directory) and a gateway node, each in a namespace
 * of its own, joined by veth pairs to a bridge in the gateway's ({@value #TRAINER_A_IP}, {@value
 * #TRAINER_B_IP}, {@value #GATEWAY_IP}); a second veth pair from this namespace to the gateway's
 * carries the viewer and REST traffic ({@value #OUTSIDE_IP} to {@value #GATEWAY_OUTSIDE_IP}). No
 * traffic leaves those namespaces. First 200 ms of latency on the owner's link ({@link LinkDelay}:
 * {@code tc netem} when the kernel has it, else a TUN device in the path), shown by a TCP round
 * trip from the gateway that takes at least that long, then a 30 s partition that cuts the job's
 * owner off from the other two ({@code ip link set down}): the viewer keeps its history and its
 * socket, the gateway shows the job {@code unreachable} and then running on the other trainer node
 * (the majority side), no node exits, and after the partition heals the job has exactly one owner:
 * the cut-off node lets it go, and metrics.csv holds each step once. Needs root and {@code ip} (CI
 * runs as root).
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class NetworkFaultsTest {

  static final String TRAINER_A_IP = "10.213.0.1";
  static final String GATEWAY_IP = "10.213.0.2";
  static final String TRAINER_B_IP = "10.213.0.3";
  static final String OUTSIDE_IP = "10.213.1.1";
  static final String GATEWAY_OUTSIDE_IP = "10.213.1.2";

  static final String SUFFIX = Long.toString(ProcessHandle.current().pid() % 100_000);
  static final String A_NS = "ls-trainer-a-" + SUFFIX;
  static final String B_NS = "ls-trainer-b-" + SUFFIX;
  static final String GATEWAY_NS = "ls-gateway-" + SUFFIX;
  static final String LINK_A = "lsa" + SUFFIX; // in trainer a's namespace
  static final String LINK_B = "lsb" + SUFFIX; // in trainer b's namespace
  static final String BRIDGE = "lsbr" + SUFFIX; // in the gateway's namespace
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
    for (String ns : List.of(A_NS, B_NS, GATEWAY_NS)) {
      sh("ip", "netns", "add", ns);
      inOk(ns, "ip", "link", "set", "lo", "up");
    }
    inOk(GATEWAY_NS, "ip", "link", "add", BRIDGE, "type", "bridge");
    inOk(GATEWAY_NS, "ip", "addr", "add", GATEWAY_IP + "/24", "dev", BRIDGE);
    inOk(GATEWAY_NS, "ip", "link", "set", BRIDGE, "up");
    link(LINK_A, A_NS, TRAINER_A_IP);
    link(LINK_B, B_NS, TRAINER_B_IP);
    sh("ip", "link", "add", OUTSIDE, "type", "veth", "peer", "name", OUTSIDE + "g");
    sh("ip", "link", "set", OUTSIDE + "g", "netns", GATEWAY_NS);
    inOk(GATEWAY_NS, "ip", "addr", "add", GATEWAY_OUTSIDE_IP + "/24", "dev", OUTSIDE + "g");
    inOk(GATEWAY_NS, "ip", "link", "set", OUTSIDE + "g", "up");
    sh("ip", "addr", "add", OUTSIDE_IP + "/24", "dev", OUTSIDE);
    sh("ip", "link", "set", OUTSIDE, "up");

    nodes = new ClusterNodes("network-faults", 3);
    nodes.syntheticJob(
        "netfault-vae",
        100_000,
        new JsonObject().put("checkpointEverySeconds", 2).put("batchSize", 8));
    String members = TRAINER_A_IP + ":5701," + GATEWAY_IP + ":5702," + TRAINER_B_IP + ":5703";
    Map<String, String> shared = Map.of("LATENTSTREAM_RUNS_DIR", runs().toString());
    http = ClusterNodes.freePort();
    nodes.start(
        "a",
        List.of("ip", "netns", "exec", A_NS),
        "trainer",
        5701,
        members,
        nodes.dir,
        shared,
        "--cluster-host",
        TRAINER_A_IP);
    nodes.start(
        "b",
        List.of("ip", "netns", "exec", B_NS),
        "trainer",
        5703,
        members,
        nodes.dir,
        shared,
        "--cluster-host",
        TRAINER_B_IP,
        "--no-job");
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
    nodes.awaitLog("a", "trainer node is up", 300);
    nodes.awaitLog("b", "trainer node is up", 300);
    nodes.awaitLog("gateway", "serving at", 300);
    await(() -> step(job()) > 10, 180, "the job stepping, seen through the gateway");
  }

  /** A veth pair from trainer namespace {@code ns} (address {@code ip}) to the gateway's bridge. */
  private static void link(String name, String ns, String ip) {
    sh("ip", "link", "add", name, "type", "veth", "peer", "name", name + "g");
    sh("ip", "link", "set", name, "netns", ns);
    sh("ip", "link", "set", name + "g", "netns", GATEWAY_NS);
    inOk(ns, "ip", "addr", "add", ip + "/24", "dev", name);
    inOk(ns, "ip", "link", "set", name, "up");
    inOk(GATEWAY_NS, "ip", "link", "set", name + "g", "master", BRIDGE);
    inOk(GATEWAY_NS, "ip", "link", "set", name + "g", "up");
  }

  static java.nio.file.Path runs() {
    return nodes.dir.resolve("runs");
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
      // The veth pairs and the bridge go with their namespaces; the outside end goes with its peer.
      run("ip", "netns", "del", A_NS);
      run("ip", "netns", "del", B_NS);
      run("ip", "netns", "del", GATEWAY_NS);
      run("ip", "link", "del", OUTSIDE);
    }
  }

  @Test
  void latencyThenAPartitionLeaveViewersTheirHistoryAndTheJobOneOwner() throws Exception {
    JsonObject first = job();
    int num = first.getInteger("num");
    String id = first.getString("id");
    boolean aOwns = (TRAINER_A_IP + ":5701").equals(first.getString("node"));
    String ownerNs = aOwns ? A_NS : B_NS;
    String ownerLink = aOwns ? LINK_A : LINK_B;
    String owner = aOwns ? "a" : "b";
    String other = aOwns ? TRAINER_B_IP + ":5703" : TRAINER_A_IP + ":5701";
    viewer =
        new Viewer(
            "viewer", URI.create("ws://" + GATEWAY_OUTSIDE_IP + ":" + http + "/ws"), null, num, 7);
    await(() -> viewer.loss.histories() == 1, 60, "the viewer's history");
    long seen = viewer.loss.lastStep();
    await(() -> viewer.loss.lastStep() > seen + 5, 60, "live points");

    // 200 ms between the owner and the others (netem, or a TUN device where the kernel has no
    // netem): slower, but nothing breaks. A TCP connect from the gateway to the owner shows it.
    String ownerIp = aOwns ? TRAINER_A_IP : TRAINER_B_IP;
    long plain = LinkDelay.connectMillis(GATEWAY_NS, ownerIp);
    try (LinkDelay delay = LinkDelay.add(ownerNs, ownerLink, Duration.ofMillis(200))) {
      long slow = LinkDelay.connectMillis(GATEWAY_NS, ownerIp);
      System.out.printf(
          "network faults: 200 ms latency by %s: a TCP connect from the gateway to the owner took"
              + " %d ms before it, %d ms with it%n",
          delay.mechanism(), plain, slow);
      assertTrue(plain < 200, "a round trip to the owner without the delay took " + plain + " ms");
      assertTrue(slow >= 200, "a round trip to the owner with the delay took " + slow + " ms");
      long before = viewer.loss.lastStep();
      await(() -> viewer.loss.lastStep() > before + 10, 60, "live points over 200 ms latency");
      assertEquals("running", job().getString("status"), job().encode());
      System.out.printf(
          "network faults: %d packets to the owner held 200 ms each%n", delay.packets());
    }

    // A 30 s partition: the owner alone on one side, the other trainer and the gateway (a majority
    // of the three members) on the other.
    int connections = viewer.connections();
    in(ownerNs, "ip", "link", "set", ownerLink, "down");
    long cutAt = System.nanoTime();
    try {
      await(() -> "unreachable".equals(job().getString("status")), 30, "the job unreachable");
      System.out.printf(
          "network faults: unreachable %.1f s into the partition%n",
          (System.nanoTime() - cutAt) / 1e9);
      await(
          () ->
              other.equals(job().getString("node")) && "running".equals(job().getString("status")),
          30,
          "the job running on the majority side's trainer");
      System.out.printf(
          "network faults: running on %s %.1f s into the partition%n",
          other, (System.nanoTime() - cutAt) / 1e9);
      while (System.nanoTime() - cutAt < TimeUnit.SECONDS.toNanos(30)) {
        Thread.sleep(500);
      }
      assertEquals(connections, viewer.connections(), "the viewer kept its socket");
    } finally {
      in(ownerNs, "ip", "link", "set", ownerLink, "up");
    }
    long healedAt = System.nanoTime();
    // The cut-off node rejoins and lets the job go: it says so, and trains nothing more for it.
    nodes.awaitLog(owner, "this node does not train it", 120);
    System.out.printf(
        "network faults: the cut-off node let the job go %.1f s after the partition healed%n",
        (System.nanoTime() - healedAt) / 1e9);
    long before = step(job());
    await(
        () -> "running".equals(job().getString("status")) && step(job()) > before,
        180,
        "the job running after the partition healed");
    await(() -> viewer.loss.histories() >= 2, 120, "a fresh history from the new owner");
    long live = viewer.loss.lastStep();
    await(() -> viewer.loss.lastStep() > live + 5, 120, "live points after the partition");
    assertEquals(List.of(), viewer.loss.problems(), "no gap or repeat in the viewer's steps");
    for (String n : List.of("a", "b", "gateway")) {
      assertTrue(nodes.process(n).isAlive(), n + " did not exit");
    }
    // Exactly one owner: the gateway lists the job once, on the majority side's node; the run
    // directory names that node; each step is in metrics.csv once.
    JsonArray all = jobs();
    assertEquals(1, all.size(), "one job: " + all.encode());
    JsonObject j = all.getJsonObject(0);
    assertEquals(other, j.getString("node"), "one owner: " + j.encode());
    assertEquals(1, j.getInteger("failovers"), j.encode());
    String lease = Files.readString(runs().resolve(id).resolve("lease.json"));
    assertTrue(lease.contains(other), lease);
    List<MetricsCsv.Row> rows = MetricsCsv.read(runs().resolve(id).resolve(MetricsCsv.FILE)).rows();
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(i + 1, rows.get(i).step(), "steps from 1, each once, with no gap");
    }
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
    ClusterNodes.await(condition, seconds, what, NetworkFaultsTest::job);
  }

  static int in(String ns, String... cmd) {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    all.addAll(List.of(cmd));
    return run(all.toArray(String[]::new));
  }

  static void inOk(String ns, String... cmd) {
    int rc = in(ns, cmd);
    if (rc != 0) {
      throw new AssertionError("in " + ns + ": " + String.join(" ", cmd) + " exited " + rc);
    }
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
