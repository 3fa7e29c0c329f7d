package dev.latentstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /ready} says 503, and why, for each thing a server needs: no trainer deployed, a runs
 * directory that cannot take a file, a default job whose dataset is not on disk. {@code /health}
 * stays 200 all the while, and neither probe needs the token that {@code watchRequiresToken} asks
 * of {@code /metrics}.
 */
class NotReadyTest {

  /** Only the ops routes, on a gateway-like verticle, with no trainer behind them. */
  static final class RoutesOnly extends VerticleBase {
    final ServerConfig config;
    HttpServer server;

    RoutesOnly(ServerConfig config) {
      this.config = config;
    }

    @Override
    public Future<?> start() {
      Router router = Router.router(vertx);
      Ops.mount(router, config, () -> new JsonObject().put("clients", 0));
      return vertx
          .createHttpServer()
          .requestHandler(router)
          .listen(0, "127.0.0.1")
          .onSuccess(s -> server = s);
    }
  }

  @Test
  void readyIs503WithAReasonPerFailingCheckWhileHealthStaysUp(@TempDir Path root) throws Exception {
    OpsFixture f = new OpsFixture(root, 64, 32, 1, 16);
    Path notADirectory = root.resolve("runs-file");
    Files.writeString(notADirectory, "x");
    Files.writeString(
        f.jobsDir.resolve("elsewhere.json"), "{\"model\":\"vae\",\"dataset\":\"mnist\"}");
    ServerConfig config =
        ServerConfig.fromJson(
            f.config()
                .put("runsDir", notADirectory.toString())
                .put("defaultJob", "elsewhere")
                .put("dataDir", root.resolve("empty").toString())
                .put("watchRequiresToken", true),
            "test");
    Vertx vertx = Vertx.vertx();
    try {
      RoutesOnly v = new RoutesOnly(config);
      vertx.deployVerticle(v).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + v.server.actualPort() + "/ready"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(503, ready.statusCode(), ready.body());
      JsonObject body = new JsonObject(ready.body());
      assertEquals("DOWN", body.getString("outcome"));
      Map<String, JsonObject> checks =
          body.getJsonArray("checks").stream()
              .map(c -> (JsonObject) c)
              .collect(Collectors.toMap(c -> c.getString("id"), c -> c));
      assertEquals("DOWN", checks.get("trainer").getString("status"));
      assertEquals(
          "no trainer is deployed",
          checks.get("trainer").getJsonObject("data").getString("reason"));
      assertEquals("DOWN", checks.get("runsDir").getString("status"));
      assertTrue(
          checks
              .get("runsDir")
              .getJsonObject("data")
              .getString("reason")
              .startsWith("runsDir cannot be written"));
      assertEquals("DOWN", checks.get("datasets").getString("status"));
      String reason = checks.get("datasets").getJsonObject("data").getString("reason");
      assertTrue(reason.contains("latentstream datasets fetch mnist"), reason);
      assertFalse(
          ready.body().contains(root.toString()), "no server path in the reply: " + ready.body());

      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + v.server.actualPort() + "/health"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode());
      assertEquals("UP", new JsonObject(health.body()).getString("outcome"));

      // This config has watchRequiresToken: /metrics wants the token, the probes never do.
      String metricsUrl = "http://127.0.0.1:" + v.server.actualPort() + "/metrics";
      assertEquals(
          401,
          http.send(
                  HttpRequest.newBuilder(URI.create(metricsUrl)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
      HttpResponse<String> metrics =
          http.send(
              HttpRequest.newBuilder(URI.create(metricsUrl))
                  .header("Authorization", "Bearer " + config.token())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, metrics.statusCode());
      assertEquals(
          0,
          PrometheusText.parse(metrics.body())
              .one("latentstream_stream_clients", Map.of())
              .value());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
