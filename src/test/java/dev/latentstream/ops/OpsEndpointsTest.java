package dev.latentstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.server.ServerApp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics}, {@code /health} and {@code /ready} of a real server that has trained a small
 * job.
 */
class OpsEndpointsTest {

  static final int TRAIN = 256;
  static final int BATCH = 32;
  static final int EPOCHS = 2;

  @TempDir static Path root;
  static Vertx vertx;
  static ServerApp.Running server;
  static final HttpClient http = HttpClient.newHttpClient();
  static WebSocket watcher;

  @BeforeAll
  static void trainOneJobToTheEnd() throws Exception {
    OpsFixture f = new OpsFixture(root, TRAIN, BATCH, EPOCHS, 32);
    vertx = Ops.vertx();
    server =
        ServerApp.start(
                vertx, ServerConfig.fromJson(f.config(), "test"), JobConfigs.load(f.jobFile()))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    watcher =
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + server.port() + "/ws"), new WebSocket.Listener() {})
            .get(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!get("/api/jobs").body().contains("\"completed\"")) {
      assertTrue(System.nanoTime() < deadline, "the job did not complete within 120 s");
      TimeUnit.MILLISECONDS.sleep(100); // polling a condition, with a deadline
    }
  }

  @AfterAll
  static void close() throws Exception {
    watcher.abort();
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metricsAreValidPrometheusTextWithTheJobsProgress() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(
        r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
        r.headers().toString());
    PrometheusText p = PrometheusText.parse(r.body());
    JsonObject job = new JsonArray(get("/api/jobs").body()).getJsonObject(0);
    Map<String, String> ofJob = Map.of("job_id", job.getString("id"), "job_num", "1");
    int steps = EPOCHS * (TRAIN / BATCH);
    assertEquals(steps, p.one("latentstream_job_step", ofJob).value());
    assertEquals(EPOCHS, p.one("latentstream_job_epoch", ofJob).value());
    assertEquals(EPOCHS, p.one("latentstream_job_epochs", ofJob).value());
    assertEquals(
        job.getDouble("testLoss"), p.one("latentstream_job_test_loss", ofJob).value(), 1e-9);
    assertTrue(p.one("latentstream_job_images_per_second", ofJob).value() > 0);
    assertEquals(
        1, p.one("latentstream_job_status", Map.of("job_num", "1", "status", "completed")).value());
    assertEquals(
        0, p.one("latentstream_job_status", Map.of("job_num", "1", "status", "running")).value());
    var terms = p.named("latentstream_job_loss");
    assertTrue(terms.size() >= 2, "loss terms: " + terms);
    assertTrue(
        terms.stream().allMatch(s -> Double.isFinite(s.value()) && s.labels().containsKey("term")),
        terms::toString);
  }

  @Test
  void metricsCarryVertxStreamingAndEventLoopMeters() throws Exception {
    get("/api/info");
    PrometheusText p = PrometheusText.parse(get("/metrics").body());
    assertTrue(
        p.named("vertx_http_server_requests_total").stream()
                .mapToDouble(PrometheusText.Sample::value)
                .sum()
            >= 1,
        "HTTP server requests");
    assertTrue(
        p.types.keySet().stream().anyMatch(n -> n.startsWith("vertx_eventbus_")),
        "event-bus meters");
    assertTrue(p.types.keySet().stream().anyMatch(n -> n.startsWith("vertx_pool_")), "pool meters");
    assertEquals(1, p.one("latentstream_stream_clients", Map.of()).value());
    assertTrue(p.one("latentstream_stream_frames_sent_total", Map.of()).value() >= 0);
    p.one("latentstream_stream_frames_conflated_total", Map.of());
    p.one("latentstream_stream_slow_clients_closed_total", Map.of());
    for (String op : List.of("decode", "encode", "interpolate", "attribute")) {
      p.one("latentstream_stream_model_requests_total", Map.of("op", op));
    }
    assertTrue(
        p.named("latentstream_event_loop_delay_seconds_count").stream()
            .anyMatch(s -> s.value() > 0),
        "event-loop delay measured");
    assertEquals("counter", p.types.get("latentstream_stream_frames_sent_total"));
    assertEquals("gauge", p.types.get("latentstream_job_step"));
  }

  @Test
  void healthIsUpWithJson() throws Exception {
    HttpResponse<String> r = get("/health");
    assertEquals(200, r.statusCode());
    JsonObject body = new JsonObject(r.body());
    assertEquals("UP", body.getString("outcome"));
    assertEquals("server", body.getJsonArray("checks").getJsonObject(0).getString("id"));
  }

  @Test
  void readyReportsTrainerRunsDirAndDatasetsUp() throws Exception {
    HttpResponse<String> r = get("/ready");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject body = new JsonObject(r.body());
    assertEquals("UP", body.getString("outcome"));
    JsonArray checks = body.getJsonArray("checks");
    assertEquals(
        java.util.Set.of("trainer", "runsDir", "datasets"),
        checks.stream()
            .map(c -> ((JsonObject) c).getString("id"))
            .collect(java.util.stream.Collectors.toSet()));
    checks.forEach(c -> assertEquals("UP", ((JsonObject) c).getString("status"), c.toString()));
  }
}
