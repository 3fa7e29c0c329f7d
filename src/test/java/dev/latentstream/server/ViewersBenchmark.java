package dev.latentstream.server;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prints seconds per epoch of the vae-fashion preset with 0, 1 and 200 live WebSocket viewers (each
 * subscribed to every stream), and the step-to-client latency of loss points on loopback (p50/p99).
 * A benchmark, not a test: it asserts nothing. Run with {@code ./latentstream tool ViewersBenchmark
 * [epochs]}.
 */
public final class ViewersBenchmark {

  public static void main(String[] args) throws Exception {
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    Path root = Files.createTempDirectory("latentstream-viewers");
    Vertx vertx = Vertx.vertx();
    ServerConfig config =
        ServerConfig.fromJson(
            new JsonObject()
                .put("port", 0)
                .put("token", "benchmark-token")
                .put("runsDir", root.resolve("runs").toString())
                .put("maxConnectionsPerIp", 1000),
            "benchmark");
    ServerApp.Running server =
        ServerApp.start(vertx, config, null).toCompletionStage().toCompletableFuture().get();
    JobConfig job = JobConfigs.load(Path.of("config/jobs/vae-fashion.json")).withEpochs(epochs);
    System.out.printf(
        "vae-fashion, %d epochs per run, frames every %d steps, server on port %d%n",
        epochs, job.frameEverySteps(), server.port());
    List<String> lines = new ArrayList<>();
    // A discarded warm-up run, so JIT compilation (which competes with OpenBLAS for the second
    // core)
    // does not land on whichever configuration happens to run first.
    run(vertx, server, job.withEpochs(2), 1);
    for (int viewers : new int[] {0, 1, 200, 0}) {
      Result r = run(vertx, server, job, viewers);
      String line =
          String.format(
              Locale.ROOT,
              "%3d viewers: %.3f s/epoch (epochs 2..%d)%s",
              viewers,
              r.secondsPerEpoch,
              epochs,
              r.latencies.isEmpty()
                  ? ""
                  : String.format(
                      Locale.ROOT,
                      ", loss push latency p50 %d ms, p99 %d ms," + " %d frames received",
                      percentile(r.latencies, 50),
                      percentile(r.latencies, 99),
                      r.frames));
      System.out.println(line);
      lines.add(line);
    }
    server.close().toCompletionStage().toCompletableFuture().get();
    System.out.println(String.join("\n", lines));
    System.exit(0);
  }

  record Result(double secondsPerEpoch, List<Long> latencies, long frames) {}

  static Result run(Vertx vertx, ServerApp.Running server, JobConfig job, int viewers)
      throws Exception {
    JsonObject started =
        vertx
            .eventBus()
            .<JsonObject>request(
                Addresses.TO_TRAINER,
                new TrainerCommand.Start(null, new JsonObject(JobConfigs.toJson(job)), null))
            .toCompletionStage()
            .toCompletableFuture()
            .get()
            .body();
    int num = started.getInteger("num");
    List<Long> latencies = new CopyOnWriteArrayList<>();
    AtomicLong frames = new AtomicLong();
    List<Double> epochSeconds = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    vertx
        .eventBus()
        .<TrainerEvent>localConsumer(
            Addresses.FROM_TRAINER_EVENTS,
            m -> {
              if (m.body() instanceof TrainerEvent.Epoch e && e.job() == num) {
                epochSeconds.add(e.result().seconds());
              }
              if (m.body() instanceof TrainerEvent.Status s
                  && s.job() == num
                  && List.of("completed", "failed", "stopped")
                      .contains(s.status().getString("status"))) {
                done.complete(null);
              }
            });
    // Viewers get their own Vert.x instance, as separate processes would have their own event
    // loops.
    Vertx viewerVertx = Vertx.vertx();
    WebSocketClient client =
        viewerVertx.createWebSocketClient(
            new WebSocketClientOptions().setMaxMessageSize(64 << 20).setMaxConnections(1000));
    List<CompletableFuture<?>> connected = new ArrayList<>();
    for (int i = 0; i < viewers; i++) {
      boolean measure = i == 0;
      var ws = client.webSocket();
      ws.textMessageHandler(
          t -> {
            if (!measure || !t.startsWith("{\"type\":\"loss\"")) {
              return;
            }
            long now = System.currentTimeMillis();
            JsonArray times = new JsonObject(t).getJsonObject("columns").getJsonArray("time");
            for (int k = 0; k < times.size(); k++) {
              latencies.add(now - times.getLong(k));
            }
          });
      ws.binaryMessageHandler(b -> frames.incrementAndGet());
      connected.add(
          ws.connect(
                  new WebSocketConnectOptions()
                      .setHost("127.0.0.1")
                      .setPort(server.port())
                      .setURI("/ws"))
              .compose(
                  v ->
                      ws.writeTextMessage(
                          new JsonObject().put("type", "subscribe").put("job", num).encode()))
              .toCompletionStage()
              .toCompletableFuture());
    }
    CompletableFuture.allOf(connected.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    done.get(30, TimeUnit.MINUTES);
    // An unreachable WebSocketClient is closed with its connections: keep it until the run is over.
    java.lang.ref.Reference.reachabilityFence(client);
    viewerVertx.close().toCompletionStage().toCompletableFuture().get();
    double mean =
        epochSeconds.stream()
            .skip(epochSeconds.size() > 1 ? 1 : 0)
            .mapToDouble(Double::doubleValue)
            .average()
            .orElse(Double.NaN);
    return new Result(mean, latencies, frames.get());
  }

  static long percentile(List<Long> values, int p) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
