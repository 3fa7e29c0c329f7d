package dev.latentstream.ops;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.server.ServerApp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Prints {@code /metrics} scrape time (p50, p95, max of N scrapes) with 0 and V viewers connected
 * while a small job trains, each viewer subscribed to the job's loss and recon streams. A
 * benchmark, not a test: it asserts nothing. Run with {@code ./latentstream tool
 * MetricsScrapeBenchmark [viewers] [scrapes]}.
 */
public final class MetricsScrapeBenchmark {

  public static void main(String[] args) throws Exception {
    int viewers = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int scrapes = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    Path root = Files.createTempDirectory("latentstream-scrape");
    OpsFixture f = new OpsFixture(root, 4096, 32, 50, 64);
    Vertx vertx = Ops.vertx();
    ServerConfig config =
        ServerConfig.fromJson(f.config().put("maxConnectionsPerIp", 1000), "benchmark");
    ServerApp.Running server =
        ServerApp.start(vertx, config, JobConfigs.load(f.jobFile()))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    URI metrics = URI.create("http://127.0.0.1:" + server.port() + "/metrics");
    scrape(http, metrics, 20); // warm-up
    String idle = scrape(http, metrics, scrapes);
    Vertx viewerVertx = Vertx.vertx();
    WebSocketClient client =
        viewerVertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(viewers));
    List<Future<WebSocket>> sockets = new ArrayList<>();
    for (int i = 0; i < viewers; i++) {
      sockets.add(
          client
              .connect(server.port(), "127.0.0.1", "/ws")
              .onSuccess(
                  ws -> {
                    ws.handler(b -> {});
                    ws.writeTextMessage(
                        new JsonObject()
                            .put("type", "subscribe")
                            .put("id", "s")
                            .put("job", 1)
                            .put(
                                "streams",
                                new io.vertx.core.json.JsonArray().add("loss").add("recon"))
                            .encode());
                  }));
    }
    Future.all(sockets).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    String busy = scrape(http, metrics, scrapes);
    System.out.printf(
        Locale.ROOT,
        "/metrics scrape, %d scrapes each:%n    0 viewers: %s%n  %3d viewers: %s%n",
        scrapes,
        idle,
        viewers,
        busy);
    viewerVertx.close();
    server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.exit(0);
  }

  static String scrape(HttpClient http, URI uri, int n) throws Exception {
    List<Double> ms = new ArrayList<>();
    int bytes = 0;
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r =
          http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      ms.add((System.nanoTime() - t0) / 1e6);
      bytes = r.body().length();
      PrometheusText.parse(r.body());
    }
    Collections.sort(ms);
    return String.format(
        Locale.ROOT,
        "p50 %.1f ms, p95 %.1f ms, max %.1f ms (%d bytes)",
        ms.get(n / 2),
        ms.get((int) Math.ceil(n * 0.95) - 1),
        ms.get(n - 1),
        bytes);
  }
}
