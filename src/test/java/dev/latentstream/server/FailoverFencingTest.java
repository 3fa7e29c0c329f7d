package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.rundir.Checkpoint;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fencing of a run directory that two trainer nodes share, on real JVMs: the owner of the job
 * is frozen with SIGSTOP while it writes a checkpoint (after it last confirmed its lease, before
 * its checkpoint is renamed into place), the other node takes the job over and writes a newer
 * checkpoint, and then the frozen node is woken. Its rename is refused by the run directory's fence
 * ({@code lease.json}): the new owner's checkpoint stays, metrics.csv holds each step once, and the
 * woken node says another node owns the job and stops training it.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS) // three JVMs on a loaded machine
class FailoverFencingTest {

  static ClusterNodes nodes;

  @AfterAll
  static void stop() {
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  void anOwnerFrozenMidCheckpointCannotReplaceTheNewOwnersCheckpointOrAddRows() throws Exception {
    nodes = new ClusterNodes("failover-fencing", 3);
    // A model whose checkpoint takes a while to write (a window to freeze the owner in), and an
    // epoch long enough that the checkpoints come from checkpointEverySeconds.
    Path data = SyntheticIdx.write(nodes.dir.resolve("synthetic-big"), 49_152, 128, 13);
    nodes.syntheticJob(
        "fencing-vae",
        100,
        new JsonObject()
            .put("hidden", new JsonArray().add(512).add(512))
            .put("checkpointEverySeconds", 2)
            .put("frameEverySteps", 50)
            .put("dataset", data.toString()));
    Path runs = Files.createDirectories(nodes.dir.resolve("runs"));
    int http = ClusterNodes.freePort();
    nodes.startFailoverGroup(runs, http, 300);
    await(http, j -> "running".equals(j.getString("status")), 180, "the default job running");
    JsonObject before = ClusterNodes.job(http);
    String id = before.getString("id");
    Path run = runs.resolve(id);
    ClusterNodes.await(() -> Checkpoint.exists(run), 180, "the default job's first checkpoint");
    String owner =
        ClusterNodes.address(nodes.clusterPorts[0]).equals(before.getString("node")) ? "a" : "b";
    String taker = owner.equals("a") ? "b" : "a";
    String takerName = ClusterNodes.address(nodes.clusterPorts[owner.equals("a") ? 1 : 0]);
    long pid = nodes.process(owner).pid();

    long frozenRow = freezeMidCheckpoint(pid, run);
    long stepB;
    List<String> checkpoints;
    try {
      await(
          http,
          j -> takerName.equals(j.getString("node")) && "running".equals(j.getString("status")),
          120,
          "the job running on node " + taker);
      // The taker's own checkpoint, past any step the frozen node had trained.
      ClusterNodes.await(
          () -> checkpointStep(run) > frozenRow, 180, "a checkpoint of node " + taker);
      stepB = checkpointStep(run);
      assertTrue(
          Files.readString(run.resolve("lease.json")).contains(takerName),
          "the run directory names the taker");
      // Paused, the taker writes no checkpoint: any change to them now is the woken node's.
      post(http, id, "pause");
      await(http, j -> "paused".equals(j.getString("status")), 60, "the job paused");
      checkpoints = checkpointFiles(run);
    } finally {
      ClusterNodes.signal("CONT", pid);
    }

    // The woken node finishes writing its checkpoint and would now rename it over the taker's.
    nodes.awaitLog(owner, "this node does not train it", 60);
    assertEquals(checkpoints, checkpointFiles(run), "the taker's checkpoints stay as they were");
    nodes.awaitLog(owner, "owns " + id + " now", 10); // refused by the fence
    assertTrue(checkpointStep(run) >= stepB);
    post(http, id, "resume");
    assertTrue(
        Files.readString(nodes.log(owner)).contains("is owned by node " + takerName),
        "the woken node names the owner");
    assertTrue(nodes.process(owner).isAlive(), "the woken node keeps running");

    // metrics.csv: the taker's rows continue the checkpoint's, each step once, none from the
    // woken node.
    long at = ClusterNodes.lastRow(run);
    ClusterNodes.await(
        () -> ClusterNodes.lastRow(run) > at + 20, 120, "node " + taker + " stepping on");
    ClusterNodes.assertEachStepOnce(run);
    assertTrue(Files.readString(run.resolve(MetricsCsv.FILE)).endsWith("\n"));
    JsonObject after = ClusterNodes.job(http);
    assertEquals(takerName, after.getString("node"), after.encode());
    // One failover at least: on a loaded machine the taker may also lose confirmation of its own
    // lease for a while and take the job up again from its checkpoint, which counts as one more.
    assertTrue(after.getInteger("failovers") >= 1, after.encode());
    assertTrue(checkpointStep(run) >= stepB);
  }

  /**
   * Freezes process {@code pid} while it writes a checkpoint of {@code run}: a shell loop sends
   * SIGSTOP the moment a temporary checkpoint file appears; tried again at the next checkpoint when
   * the process had renamed it before it stopped. Returns the last row of metrics.csv then (the
   * rows are committed before a checkpoint is written, so the frozen one is at that step).
   */
  private static long freezeMidCheckpoint(long pid, Path run) throws Exception {
    Path dir = run.resolve("checkpoint");
    String loop =
        "shopt -s nullglob; end=$((SECONDS+60)); while [ $SECONDS -lt $end ]; do"
            + " for f in \"$1\"/latest.pt*.tmp; do kill -STOP $2; echo \"$f\"; exit 0; done;"
            + " done; exit 1";
    for (int attempt = 1; attempt <= 10; attempt++) {
      Process watcher =
          new ProcessBuilder("bash", "-c", loop, "freeze", dir.toString(), Long.toString(pid))
              .redirectErrorStream(true)
              .start();
      String seen = new String(watcher.getInputStream().readAllBytes()).strip();
      assertEquals(0, watcher.waitFor(), "no checkpoint written within 60 s: " + seen);
      if (!pendingTemporaries(run).isEmpty()) {
        System.out.printf("fencing: node frozen mid-checkpoint (%s), attempt %d%n", seen, attempt);
        return ClusterNodes.lastRow(run);
      }
      ClusterNodes.signal("CONT", pid); // renamed before it stopped: the next one
    }
    throw new AssertionError("never froze the node before its checkpoint's rename");
  }

  /** The temporary checkpoint files in the run, as one string (empty when there are none). */
  private static String pendingTemporaries(Path run) throws Exception {
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.list(run.resolve("checkpoint"))) {
      files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.startsWith("latest.pt") && n.endsWith(".tmp"))
          .forEach(names::add);
    }
    return String.join(",", names);
  }

  /** latest.pt and previous.pt: each one's name, inode, size and time of change. */
  private static List<String> checkpointFiles(Path run) throws Exception {
    List<String> out = new ArrayList<>();
    for (String name : List.of(Checkpoint.FILE, "previous.pt")) {
      Path f = run.resolve("checkpoint").resolve(name);
      out.add(
          Files.exists(f)
              ? name
                  + " "
                  + Files.getAttribute(f, "unix:ino")
                  + " "
                  + Files.size(f)
                  + " "
                  + Files.getLastModifiedTime(f).toMillis()
              : name + " missing");
    }
    return out;
  }

  /**
   * Posts {@code action}; a 503 (the gateway reaching no trainer for a moment while the woken node
   * rejoins the cluster) is asked again for up to 30 s, as a client would.
   */
  private static void post(int http, String id, String action) throws Exception {
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (true) {
      HttpResponse<String> r =
          ClusterNodes.HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + http + "/api/jobs/" + id + "/" + action))
                  .header("Authorization", "Bearer " + ClusterNodes.TOKEN)
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 503 || System.nanoTime() > end) {
        assertEquals(200, r.statusCode(), action + " " + id + ": " + r.body());
        return;
      }
      Thread.sleep(500);
    }
  }

  /** The step of the run's checkpoint (latest.pt, else previous.pt), -1 without one. */
  private static long checkpointStep(Path run) {
    try {
      return Checkpoint.readProgress(run).step();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static void await(int http, Predicate<JsonObject> job, int seconds, String what)
      throws InterruptedException {
    ClusterNodes.await(() -> job.test(ClusterNodes.job(http)), seconds, what);
  }
}
