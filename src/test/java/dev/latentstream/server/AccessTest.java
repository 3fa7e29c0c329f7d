package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A server that requires the token to watch, with tight connection, message and queue limits. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class AccessTest {

  static final String ALLOWED_ORIGIN = "https://viewer.example:8443";

  @TempDir static Path root;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server =
        new TestServer(
            root,
            new JsonObject()
                .put("watchRequiresToken", true)
                .put("maxConnectionsPerIp", 2)
                .put("maxMessageBytes", 1024)
                .put("maxConcurrentJobs", 1)
                .put("queueLimit", 1)
                .put("allowedOrigins", new io.vertx.core.json.JsonArray().add(ALLOWED_ORIGIN)));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static int rejection(Throwable t) {
    return t instanceof UpgradeRejectedException u ? u.getStatus() : -1;
  }

  @Test
  void watchingNeedsTheTokenOnTheSocket(Vertx vertx, VertxTestContext ctx) {
    Checkpoint refused = ctx.checkpoint();
    Checkpoint admitted = ctx.checkpoint();
    ProtocolClient.open(vertx, server.port(), null)
        .onComplete(
            ctx.failing(
                t ->
                    ctx.verify(
                        () -> {
                          assertEquals(401, rejection(t), String.valueOf(t));
                          refused.flag();
                        })));
    ProtocolClient.open(vertx, server.port(), "token=" + TestServer.TOKEN)
        .compose(c -> c.next("welcome").eventually(c::close))
        .onComplete(
            ctx.succeeding(
                w ->
                    ctx.verify(
                        () -> {
                          assertTrue(w.getBoolean("authorized"));
                          admitted.flag();
                        })));
  }

  @Test
  void watchingNeedsTheTokenOnEveryApiRouteButTheProtocol() throws Exception {
    for (String path :
        new String[] {"/api/info", "/api/jobs", "/api/presets", "/api/jobs/x/frames"}) {
      assertEquals(401, server.request(HttpMethod.GET, path, null, null).status(), path);
    }
    assertEquals(200, server.request(HttpMethod.GET, "/api/jobs", TestServer.TOKEN, null).status());
    assertEquals(
        200,
        server.request(HttpMethod.GET, "/api/jobs?token=" + TestServer.TOKEN, null, null).status());
    assertEquals(200, server.request(HttpMethod.GET, "/api/protocol.md", null, null).status());
  }

  @Test
  void jobsBeyondTheQueueLimitAreRefused() throws Exception {
    JsonObject running = server.startJob(server.spec(1000, 0));
    JsonObject queued = server.startJob(server.spec(1000, 0));
    try {
      assertEquals("queued", queued.getString("status"), "one job trains at a time");
      TestServer.Response refused =
          server.request(
              HttpMethod.POST,
              "/api/jobs",
              TestServer.TOKEN,
              new JsonObject().put("spec", server.spec(1, 0)).encode());
      assertEquals(503, refused.status(), refused.body().toString());
      assertTrue(
          refused.json().getJsonObject("error").getString("message").contains("queue is full"));
      // The same refusal over the WebSocket: an error with protocol.md's code "unavailable", and
      // the socket
      // stays open for the next request.
      try (TestServer.Client c = server.connect("token=" + TestServer.TOKEN, null)) {
        c.send(new JsonObject().put("type", "start").put("id", 7).put("spec", server.spec(1, 0)));
        JsonObject error = c.nextType("error", 30);
        assertEquals("unavailable", error.getString("code"), error.encode());
        assertEquals("7", String.valueOf(error.getValue("id")), error.encode());
        assertTrue(error.getString("message").contains("queue is full"), error.encode());
        c.send(new JsonObject().put("type", "ping").put("id", 8));
        assertEquals("8", String.valueOf(c.nextType("pong", 10).getValue("id")));
      }
    } finally {
      for (JsonObject j : new JsonObject[] {queued, running}) {
        server.request(
            HttpMethod.POST, "/api/jobs/" + j.getString("id") + "/stop", TestServer.TOKEN, null);
        TestServer.awaitStatus(server, j.getString("id"), "stopped", 30);
      }
    }
  }

  @Test
  void aClientAddressGetsAtMostMaxConnectionsPerIp(Vertx vertx, VertxTestContext ctx) {
    String query = "token=" + TestServer.TOKEN;
    Future.all(
            ProtocolClient.open(vertx, server.port(), query),
            ProtocolClient.open(vertx, server.port(), query))
        .compose(
            two ->
                ProtocolClient.open(vertx, server.port(), query)
                    .<Integer>transform(
                        third ->
                            Future.succeededFuture(
                                third.succeeded() ? 101 : rejection(third.cause())))
                    .compose(
                        status -> {
                          assertEquals(429, status, "the third connection");
                          ProtocolClient first = two.resultAt(0);
                          // A slot frees once the server has seen the close: a new connection is
                          // admitted then.
                          return first
                              .close()
                              .compose(v -> openOnceAdmitted(vertx, query, 50))
                              .compose(ProtocolClient::close)
                              .compose(v -> two.<ProtocolClient>resultAt(1).close());
                        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Connects, trying again while the server still refuses with 429 (it has not yet seen a close).
   */
  static Future<ProtocolClient> openOnceAdmitted(Vertx vertx, String query, int attempts) {
    return ProtocolClient.open(vertx, server.port(), query)
        .recover(
            t ->
                rejection(t) == 429 && attempts > 1
                    ? vertx.timer(20).compose(v -> openOnceAdmitted(vertx, query, attempts - 1))
                    : Future.failedFuture(t));
  }

  @Test
  void anAllowedOriginConnectsAndAnotherIsRefusedWith403(Vertx vertx, VertxTestContext ctx) {
    io.vertx.core.http.WebSocketClient client = vertx.createWebSocketClient();
    java.util.function.Function<String, Future<io.vertx.core.http.WebSocket>> open =
        origin ->
            client.connect(
                new io.vertx.core.http.WebSocketConnectOptions()
                    .setHost("127.0.0.1")
                    .setPort(server.port())
                    .setURI("/ws?token=" + TestServer.TOKEN)
                    .addHeader("Origin", origin));
    open.apply(ALLOWED_ORIGIN)
        .compose(ws -> ws.close())
        .compose(
            v ->
                open.apply("https://viewer.example:8444")
                    .transform(
                        ar -> Future.succeededFuture(ar.succeeded() ? 101 : rejection(ar.cause()))))
        .map(
            status -> {
              assertEquals(403, status, "an origin not in allowedOrigins");
              return status;
            })
        .eventually(client::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void anOversizedMessageGetsAnErrorAndAHugeOneClosesTheSocket(Vertx vertx, VertxTestContext ctx) {
    ProtocolClient.open(vertx, server.port(), "token=" + TestServer.TOKEN)
        .compose(
            c ->
                c.request(new JsonObject().put("type", "ping").put("pad", "x".repeat(2000)))
                    .compose(
                        r -> {
                          assertEquals("too_large", r.getString("code"), r.encode());
                          return c.request(new JsonObject().put("type", "ping"));
                        })
                    .compose(
                        pong -> {
                          assertEquals("pong", pong.getString("type"), "still open");
                          io.vertx.core.Promise<Short> closed = io.vertx.core.Promise.promise();
                          c.ws.closeHandler(v -> closed.tryComplete(c.ws.closeStatusCode()));
                          c.send(new JsonObject().put("type", "ping").put("pad", "x".repeat(5000)));
                          return closed.future();
                        })
                    .map(
                        code -> {
                          assertEquals((short) 1009, code, "message too big");
                          return code;
                        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
