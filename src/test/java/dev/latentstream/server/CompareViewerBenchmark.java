package dev.latentstream.server;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The bytes a compare viewer costs the server: one socket subscribed to every stream of 8 running
 * jobs (the compare view on 8 runs) beside one subscribed to one job (the single view), counted
 * over 20 s after a 5 s warm-up, with the server's default {@code viewerBytesPerSecond}. A
 * benchmark: it prints, it asserts nothing.
 */
public final class CompareViewerBenchmark {

  record Counter(AtomicLong bytes, AtomicLong frames, AtomicLongArray perJob) {
    Counter() {
      this(new AtomicLong(), new AtomicLong(), new AtomicLongArray(64));
    }
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    Path root = Files.createTempDirectory("latentstream-compare-bench");
    Vertx clients = Vertx.vertx();
    try (TestServer server =
        new TestServer(root, new JsonObject().put("maxConcurrentJobs", 8).put("queueLimit", 16))) {
      int budget = server.running.config().viewerBytesPerSecond();
      List<Integer> nums = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        JsonObject job = server.startJob(server.spec(100_000, 2).put("beta", 1 + i));
        nums.add(job.getInteger("num"));
        ids.add(job.getString("id"));
      }
      for (String id : ids) {
        TestServer.awaitStatus(server, id, "running", 120);
      }
      Counter compare = new Counter(), single = new Counter();
      var a = open(clients, server.port(), nums, compare);
      var b = open(clients, server.port(), nums.subList(0, 1), single);
      Thread.sleep(5_000);
      long c0 = compare.bytes().get(),
          f0 = compare.frames().get(),
          s0 = single.bytes().get(),
          g0 = single.frames().get();
      long[] j0 = new long[8];
      for (int i = 0; i < 8; i++) {
        j0[i] = compare.perJob().get(nums.get(i));
      }
      Thread.sleep(seconds * 1000L);
      long c = compare.bytes().get() - c0, f = compare.frames().get() - f0;
      long s = single.bytes().get() - s0, g = single.frames().get() - g0;
      System.out.printf(
          "viewerBytesPerSecond %d; %d s after a 5 s warm-up, 8 jobs training (tiny VAE, a frame every 2 steps):%n",
          budget, seconds);
      System.out.printf(
          "  compare viewer (8 jobs, every stream): %.0f bytes/s (%.2f of the budget), %.1f frames/s%n",
          c / (double) seconds, c / (double) seconds / budget, f / (double) seconds);
      StringBuilder per = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        per.append(i == 0 ? "" : ", ").append(compare.perJob().get(nums.get(i)) - j0[i]);
      }
      System.out.println("  frames per job: " + per);
      System.out.printf(
          "  single viewer (1 job, every stream): %.0f bytes/s (%.2f of the budget), %.1f frames/s%n",
          s / (double) seconds, s / (double) seconds / budget, g / (double) seconds);
      a.close();
      b.close();
    } finally {
      clients.close();
    }
    System.exit(0);
  }

  static io.vertx.core.http.WebSocket open(
      Vertx vertx, int port, List<Integer> jobs, Counter counter) throws Exception {
    var client =
        vertx.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(64 << 20));
    var ws = client.webSocket();
    ws.textMessageHandler(
        t -> counter.bytes().addAndGet(t.getBytes(StandardCharsets.UTF_8).length));
    ws.binaryMessageHandler(
        b -> {
          counter.bytes().addAndGet(b.length());
          counter.frames().incrementAndGet();
          int job = b.getInt(4);
          if (job < 64) {
            counter.perJob().incrementAndGet(job);
          }
        });
    ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    for (int job : jobs) {
      ws.writeTextMessage(
          new JsonObject()
              .put("type", "subscribe")
              .put("id", "s" + job)
              .put("job", job)
              .put(
                  "streams",
                  new JsonArray(
                      List.of(
                          "loss",
                          "recon",
                          "samples",
                          "latent",
                          "manifold",
                          "status",
                          "diagnostics")))
              .encode());
    }
    return ws;
  }
}
