package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.rundir.RunFence;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.ClusterNodes;
import dev.latentstream.testing.SyntheticIdx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
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
 * The failover cases {@link FailoverTest} leaves out, on real JVMs sharing one runs directory: node
 * a holds a paused job, a job that has no checkpoint yet, a running and a queued job, and a run it
 * stopped after node b started (so only a lists it). After a {@code kill -9} of a (which tears the
 * last row of a metrics.csv, as a kill mid-write does), b has the paused job paused, the job
 * without a checkpoint from step 0, the queued one training, and shows the stopped run as stopped
 * with its files. Then b is frozen with SIGSTOP: a node that comes back takes its jobs (training
 * without the run locks the frozen b still holds), and after SIGCONT b writes no row and no
 * checkpoint for them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 900, unit = TimeUnit.SECONDS) // four JVMs on a loaded machine
class FailoverCasesTest {

  static ClusterNodes nodes;
  static Path runs;
  static int http;
  static String a;
  static String b;
  static String paused;
  static String fresh;
  static String running;
  static String queued;
  static String stopped;
  static long pausedAtStep;

  @BeforeAll
  static void start() throws Exception {
    nodes = new ClusterNodes("failover-cases", 3);
    JsonObject slow = new JsonObject().put("checkpointEverySeconds", 2).put("batchSize", 8);
    nodes.syntheticJob("cases-paused", 100_000, slow);
    nodes.syntheticJob("cases-running", 100_000, slow);
    nodes.syntheticJob("cases-queued", 100_000, slow);
    nodes.syntheticJob("cases-stopped", 100_000, slow);
    // Checkpoints at epoch ends only, and an epoch of 49,152 steps (minutes): none before the kill.
    // Its job object's step moves at checkpoints only, so its rows tell how far it is.
    nodes.syntheticJob(
        "cases-fresh",
        10,
        new JsonObject()
            .put("checkpointEverySeconds", 0)
            .put("batchSize", 1)
            .put("frameEverySteps", 200)
            .put("dataset", bigDataset().toString()));
    runs = Files.createDirectories(nodes.dir.resolve("runs"));
    http = ClusterNodes.freePort();
    a = ClusterNodes.address(nodes.clusterPorts[0]);
    b = ClusterNodes.address(nodes.clusterPorts[1]);
    nodes.start("a", "trainer", nodes.clusterPorts[0], trainerEnv(3), "--no-job");
    nodes.startGateway("gateway", nodes.clusterPorts[2], http, Map.of());
    nodes.awaitLog("a", "trainer node is up", 300);
    nodes.awaitLog("gateway", "serving at", 300);

    // Node a alone trains: every job is a's.
    paused = startPreset("cases-paused");
    fresh = startPreset("cases-fresh");
    stopped = startPreset("cases-stopped");
    running = startPreset("cases-running"); // queued until the stopped one frees its slot
    queued = startPreset("cases-queued");
    await(() -> Files.exists(runs.resolve(paused).resolve("checkpoint")), 180, "a checkpoint");
    await(() -> step(job(paused)) > 20, 120, "the paused job stepping");
    post(paused, "pause");
    await(() -> "paused".equals(status(paused)), 30, "the job paused");
    pausedAtStep = step(job(paused));
    await(() -> step(job(stopped)) > 5, 120, "the job to stop stepping");
    await(() -> lastRow(fresh) > 20, 120, "the job without a checkpoint stepping");
    assertEquals("queued", status(running), job(running).encode());
    assertEquals("queued", status(queued), job(queued).encode());

    // Node b joins the group: the active runs are a's, and b leaves them to it.
    nodes.start("b", "trainer", nodes.clusterPorts[1], trainerEnv(5), "--no-job");
    nodes.awaitLog("b", "trainer node is up", 300);
    nodes.awaitLog("b", "is owned by node " + a, 10);
    // A run that ends after b started: only a lists it.
    post(stopped, "stop");
    await(() -> "stopped".equals(status(stopped)), 60, "the run stopped");
    await(() -> "running".equals(status(running)), 60, "the queued job taking the slot");
    assertEquals("queued", status(queued), job(queued).encode());
    for (String id : List.of(paused, fresh, running, queued, stopped)) {
      assertEquals(a, job(id).getString("node"), job(id).encode());
    }
  }

  @AfterAll
  static void stop() {
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  @Order(1)
  void aKilledNodesPausedQueuedUncheckpointedAndStoppedRunsAllContinueOnTheOther()
      throws Exception {
    assertFalse(
        Files.exists(runs.resolve(fresh).resolve("checkpoint").resolve("latest.pt")),
        "the premise: the fresh job has no checkpoint yet");
    long freshStepsOnA = lastRow(fresh);
    long killedAt = System.nanoTime();
    nodes.kill("a");
    // A kill in the middle of a write leaves a row cut short, with no newline.
    Path pausedCsv = runs.resolve(paused).resolve(MetricsCsv.FILE);
    Files.writeString(pausedCsv, (pausedAtStep + 1) + ",0,12.34", StandardOpenOption.APPEND);

    for (String id : List.of(paused, fresh, running, queued)) {
      await(() -> b.equals(job(id).getString("node")), 60, id + " taken over by node b");
    }
    System.out.printf(
        "failover cases: 4 jobs on node b %.1f s after kill -9 of node a%n",
        (System.nanoTime() - killedAt) / 1e9);
    for (String id : List.of(paused, fresh, running, queued)) {
      assertEquals(1, job(id).getInteger("failovers"), job(id).encode());
    }

    // The paused job stays paused (from its checkpoint) until a user resumes it.
    await(() -> "paused".equals(status(paused)), 30, "the paused job paused on node b");
    Thread.sleep(3000);
    long heldAt = step(job(paused));
    assertEquals("paused", status(paused));
    assertTrue(heldAt <= pausedAtStep, "from its checkpoint, at most where it paused: " + heldAt);
    Thread.sleep(2000);
    assertEquals(heldAt, step(job(paused)), "a paused job does not step");

    // The job without a checkpoint starts again at step 0: each step is in metrics.csv once.
    await(() -> "running".equals(status(fresh)), 60, "the fresh job running on node b");
    await(() -> lastRow(fresh) > 10, 120, "node b's rows of the fresh job");
    assertEachStepOnce(fresh);
    assertFalse(job(fresh).containsKey("resumedAtStep"), "from the start: " + job(fresh));
    assertTrue(freshStepsOnA > 20, "node a had trained it for a while: " + freshStepsOnA);

    // The queued job is trained by node b; the running one continues there.
    await(() -> step(job(queued)) > 10, 120, "the queued job training on node b");
    await(() -> step(job(running)) > 10, 120, "the running job training on node b");
    assertEachStepOnce(running);

    // The run a stopped (listed only by a) is stopped, not unreachable, and its files are there.
    await(() -> "stopped".equals(status(stopped)), 30, "the stopped run listed by node b");
    HttpResponse<String> csv = get("/api/jobs/" + stopped + "/metrics");
    assertEquals(200, csv.statusCode(), csv.body());
    assertTrue(csv.body().lines().count() > 5, csv.body());

    // Resumed by a user, the paused job continues: the torn row is gone, each step once.
    post(paused, "resume");
    await(() -> step(job(paused)) > heldAt + 10, 120, "the resumed job stepping");
    await(() -> lastRow(paused) > heldAt + 10, 60, "its rows");
    assertEachStepOnce(paused);
    assertFalse(Files.readString(pausedCsv).contains(",12.34"), "the torn row dropped");
  }

  @Test
  @Order(2)
  void aFrozenOwnerIsFencedAndWritesNothingOnceAnotherNodeOwnsItsJobs() throws Exception {
    nodes.start("a2", "trainer", nodes.clusterPorts[0], trainerEnv(5), "--no-job");
    nodes.awaitLog("a2", "trainer node is up", 300);
    nodes.awaitLog("a2", "is owned by node " + b, 10);
    List<String> active = List.of(paused, fresh, running, queued);
    long owned = nodes.process("b").pid();
    List<Path> leaseFiles = new java.util.ArrayList<>();
    for (String id : active) {
      leaseFiles.add(runs.resolve(id).resolve(RunFence.FILE));
    }
    ClusterNodes.freezeOutsideLocks(owned, leaseFiles);
    long frozenAt = System.nanoTime();
    try {
      for (String id : active) {
        await(() -> a.equals(job(id).getString("node")), 90, id + " taken over by node a2");
      }
      System.out.printf(
          "failover cases: jobs on node a2 %.1f s after SIGSTOP of node b%n",
          (System.nanoTime() - frozenAt) / 1e9);
      // The frozen node still holds the runs' locks: a2 trains without them after 3 s, since the
      // frozen node's writes are fenced off by lease.json.
      nodes.awaitLog("a2", "training without it", 60);
    } finally {
      ClusterNodes.signal("CONT", owned);
    }
    long wokenAt = System.nanoTime();
    await(
        () -> {
          try {
            return Files.readString(nodes.log("b")).contains("this node does not train it");
          } catch (Exception e) {
            return false;
          }
        },
        60,
        "node b, woken, letting go of its jobs");
    for (String id : List.of(fresh, running)) {
      long from = job(id).getLong("resumedAtStep", 0L);
      await(() -> lastRow(id) > from + 5, 90, id + " stepping on node a2");
    }
    System.out.printf(
        "failover cases: a2 training %.1f s after SIGCONT of node b%n",
        (System.nanoTime() - wokenAt) / 1e9);
    // Long enough for b's trainers, had they not been fenced, to write rows and a checkpoint.
    while (System.nanoTime() - wokenAt < TimeUnit.SECONDS.toNanos(10)) {
      Thread.sleep(200);
    }
    assertTrue(nodes.process("b").isAlive(), "node b, woken, is still running");
    assertFalse(
        Files.readString(nodes.log("b")).contains("is still this node's"),
        "node b took no job back from a stale view of the leases");
    for (String id : active) {
      JsonObject j = job(id);
      assertEquals(a, j.getString("node"), j.encode());
      assertEquals(2, j.getInteger("failovers"), j.encode());
      String lease = Files.readString(runs.resolve(id).resolve("lease.json"));
      assertTrue(lease.contains(a), "the run directory names node a2: " + lease);
      String status = Files.readString(runs.resolve(id).resolve("status.json"));
      assertTrue(status.contains(a), "status.json is a2's: " + status);
    }
    for (String id : List.of(fresh, running)) {
      long at = lastRow(id);
      await(() -> lastRow(id) > at, 60, id + " stepping on node a2");
      assertEachStepOnce(id);
      assertTrue(Files.readString(runs.resolve(id).resolve(MetricsCsv.FILE)).endsWith("\n"));
      // The checkpoint is a2's: at or before a2's last committed row.
      long checkpointStep =
          dev.latentstream.rundir.Checkpoint.exists(runs.resolve(id))
              ? dev.latentstream.rundir.Checkpoint.readProgress(runs.resolve(id)).step()
              : 0;
      assertTrue(checkpointStep <= lastRow(id), id + " checkpoint at " + checkpointStep);
    }
    JsonArray all = ClusterNodes.jobs(http);
    assertEquals(5, all.size(), "one entry per job: " + all.encode());
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** A 49,152-image synthetic set: with batches of one, an epoch longer than the test's setup. */
  static Path bigDataset() throws Exception {
    return SyntheticIdx.write(nodes.dir.resolve("synthetic-big"), 49_152, 128, 13);
  }

  static Map<String, String> trainerEnv(int slots) {
    return Map.of(
        "LATENTSTREAM_RUNS_DIR",
        runs.toString(),
        "LATENTSTREAM_MAX_CONCURRENT_JOBS",
        Integer.toString(slots));
  }

  static String startPreset(String preset) throws Exception {
    HttpResponse<String> r =
        send("POST", "/api/jobs", new JsonObject().put("preset", preset).encode());
    assertEquals(201, r.statusCode(), r.body());
    return new JsonObject(r.body()).getString("id");
  }

  static void post(String id, String action) throws Exception {
    HttpResponse<String> r = send("POST", "/api/jobs/" + id + "/" + action, null);
    assertEquals(200, r.statusCode(), action + " " + id + ": " + r.body());
  }

  static HttpResponse<String> get(String path) throws Exception {
    return send("GET", path, null);
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder rb =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + path))
            .header("Authorization", "Bearer " + ClusterNodes.TOKEN)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    return ClusterNodes.HTTP.send(rb.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject job(String id) {
    return ClusterNodes.job(http, id);
  }

  static String status(String id) {
    return job(id).getString("status", "");
  }

  static long step(JsonObject j) {
    return j.getLong("step", 0L);
  }

  /** The step of the last whole row of the job's metrics.csv, 0 when it has none. */
  static long lastRow(String id) {
    return ClusterNodes.lastRow(runs.resolve(id));
  }

  /** Steps from 1, each once, with no gap. */
  static void assertEachStepOnce(String id) throws Exception {
    ClusterNodes.assertEachStepOnce(runs.resolve(id));
  }

  static void await(BooleanSupplier condition, int seconds, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        String all;
        try {
          all = ClusterNodes.jobs(http).encodePrettily();
        } catch (Exception e) {
          all = e.toString();
        }
        throw new AssertionError("not within " + seconds + " s: " + what + "; jobs: " + all);
      }
      Thread.sleep(200);
    }
  }
}
