package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.jobs.TrainerVerticle;
import dev.latentstream.render.Renderers;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two trainer nodes behind one gateway (here in one process, so on one event bus; {@link
 * ClusterTest} covers separate JVMs): job numbers never collide, and every command reaches the node
 * that owns its job, where the event bus alone would hand each command to the nodes in turn.
 */
@Timeout(180)
class TwoTrainersTest {

  @Test
  void jobNumbersDifferAcrossNodesAndEveryCommandReachesTheNodeThatOwnsTheJob(@TempDir Path root)
      throws Exception {
    try (TestServer server = new TestServer(root, new JsonObject())) {
      ServerConfig second =
          ServerConfig.fromJson(
              new JsonObject()
                  .put("port", 0)
                  .put("token", TestServer.TOKEN)
                  .put("runsDir", root.resolve("runs-b").toString())
                  .put("dataDir", root.toString())
                  .put("maxConcurrentJobs", 4),
              "second trainer");
      server
          .vertx
          .deployVerticle(
              new TrainerVerticle(second, Renderers.best()),
              new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);

      List<JsonObject> jobs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        // Names of their own: outside a cluster a job's id is its name and start time, which two
        // nodes could share.
        jobs.add(server.startJob(server.spec(1000, 0).put("name", "node-test-" + i)));
      }
      Set<Integer> nums = new HashSet<>();
      jobs.forEach(j -> nums.add(j.getInteger("num")));
      assertEquals(4, nums.size(), "one number per job across both nodes: " + nums);
      // A job's run directory appears when its node launches it (after loading the dataset): wait
      // for each.
      for (JsonObject j : jobs) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(root.resolve("runs").resolve(j.getString("id")))
            && !Files.exists(root.resolve("runs-b").resolve(j.getString("id")))) {
          assertTrue(
              System.nanoTime() < until, "job " + j.getString("id") + " launched on neither node");
          Thread.sleep(20);
        }
      }
      // Starts go to the nodes in turn: both train.
      long onFirst =
          jobs.stream()
              .filter(
                  j ->
                      Files.exists(root.resolve("runs").resolve(j.getString("id")))
                          || !Files.exists(root.resolve("runs-b").resolve(j.getString("id"))))
              .count();
      assertTrue(
          onFirst >= 1 && onFirst <= 3, "both nodes got jobs: " + onFirst + " of 4 on the first");

      for (JsonObject j : jobs) {
        TestServer.awaitStatus(server, j.getString("id"), "running", 60);
      }
      try (TestServer.Client ws = server.connect("token=" + TestServer.TOKEN, null)) {
        for (int round = 0; round < 3; round++) {
          for (JsonObject j : jobs) {
            String id = j.getString("id");
            int num = j.getInteger("num");
            TestServer.Response r =
                server.request(
                    HttpMethod.POST, "/api/jobs/" + id + "/pause", TestServer.TOKEN, null);
            assertEquals(200, r.status(), "pause " + id + " over REST: " + r.body());
            for (String action : List.of("resume", "pause")) {
              String req = action + round + "-" + num;
              ws.send(new JsonObject().put("type", action).put("id", req).put("job", num));
              JsonObject reply = ws.next(m -> req.equals(m.getString("id")), 30);
              assertEquals(
                  action + "d",
                  reply.getString("type"),
                  "by number over the WebSocket: " + reply.encode());
            }
            r =
                server.request(
                    HttpMethod.POST, "/api/jobs/" + id + "/resume", TestServer.TOKEN, null);
            assertEquals(200, r.status(), "resume " + id + " over REST: " + r.body());
          }
        }
      } finally {
        for (JsonObject j : jobs) {
          server.request(
              HttpMethod.POST, "/api/jobs/" + j.getString("id") + "/stop", TestServer.TOKEN, null);
        }
      }
    }
  }
}
