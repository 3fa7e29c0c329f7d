package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The server over real loopback sockets: REST, the WebSocket protocol, auth and bad input. */
@Timeout(120)
class ServerTest {

  @TempDir static Path root;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void infoReportsVersionsDeviceAndBridge() throws Exception {
    JsonObject info = server.request(HttpMethod.GET, "/api/info", null, null).json();
    assertEquals(1, info.getInteger("protocol"));
    assertEquals("cpu", info.getString("device"));
    assertTrue(info.getString("libtorch").startsWith("2."), info.encode());
    assertEquals(
        dev.latentstream.render.Renderers.best().implementation(),
        info.getString("nativeBridge"),
        "the frame renderer the server uses");
    JsonArray presets =
        new JsonArray(server.request(HttpMethod.GET, "/api/presets", null, null).body());
    assertTrue(
        presets.stream().anyMatch(p -> "vae-fashion".equals(((JsonObject) p).getString("name"))));
  }

  @Test
  void stateChangesNeedTheTokenAndBadRequestsGetClearErrors() throws Exception {
    String spec = new JsonObject().put("spec", server.spec(1, 0)).encode();
    assertEquals(401, server.request(HttpMethod.POST, "/api/jobs", null, spec).status());
    assertEquals(
        401, server.request(HttpMethod.POST, "/api/jobs", "wrong-token-xxxx", spec).status());
    TestServer.Response bad =
        server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, "{not json");
    assertEquals(400, bad.status());
    TestServer.Response badSpec =
        server.request(
            HttpMethod.POST,
            "/api/jobs",
            TestServer.TOKEN,
            new JsonObject()
                .put("spec", new JsonObject().put("model", "vae").put("lr", -1))
                .encode());
    assertEquals(400, badSpec.status());
    assertTrue(
        badSpec.json().getJsonObject("error").getString("message").contains("\"lr\""),
        badSpec.body().toString());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/nope", null, null).status());
    assertEquals(
        404,
        server.request(HttpMethod.GET, "/api/jobs/..%2F..%2Fpom.xml/metrics", null, null).status());
    assertEquals(
        404,
        server
            .request(HttpMethod.GET, "/api/jobs/x/frames/..%2F..%2Fpom.xml", null, null)
            .status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/nothing", null, null).status());
    for (String body :
        new String[] {
          "{\"preset\": 5}",
          "{\"preset\": \"a\", \"spec\": {}}",
          "{}",
          "{\"spec\": {}, \"epochs\": 0}",
          "[1]"
        }) {
      assertEquals(
          400, server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, body).status(), body);
    }
    TestServer.Response unknownPreset =
        server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, "{\"preset\": \"nope\"}");
    assertEquals(400, unknownPreset.status());
    assertTrue(
        unknownPreset.body().toString().contains("unknown preset"),
        unknownPreset.body().toString());
    assertEquals(
        400,
        server
            .request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, "{\"preset\": \"../../pom\"}")
            .status());
    assertEquals(404, server.request(HttpMethod.GET, "/..%2F..%2Fpom.xml", null, null).status());
    assertEquals(
        404, server.request(HttpMethod.GET, "/%2e%2e/%2e%2e/pom.xml", null, null).status());
    TestServer.Response protocol = server.request(HttpMethod.GET, "/api/protocol.md", null, null);
    assertEquals(200, protocol.status());
    assertTrue(protocol.body().toString().startsWith("# latentstream WebSocket protocol"));
    assertEquals(200, server.request(HttpMethod.GET, "/", null, null).status(), "the page");

    JsonObject job = server.startJob(server.spec(1, 0));
    String id = job.getString("id");
    TestServer.awaitStatus(server, id, "completed", 60);
    TestServer.Response csv =
        server.request(HttpMethod.GET, "/api/jobs/" + id + "/metrics", null, null);
    assertTrue(
        csv.body().toString().startsWith("step,epoch,recon,kl,loss,test_loss"),
        csv.body().toString());
    JsonObject cols =
        server
            .request(HttpMethod.GET, "/api/jobs/" + id + "/metrics?format=json", null, null)
            .json();
    assertEquals(16, cols.getJsonArray("step").size());
    assertEquals(
        401,
        server.request(HttpMethod.GET, "/api/jobs/" + id + "/checkpoint", null, null).status());
    TestServer.Response ckpt =
        server.request(HttpMethod.GET, "/api/jobs/" + id + "/checkpoint", TestServer.TOKEN, null);
    assertEquals(200, ckpt.status());
    assertEquals('P', ckpt.body().getByte(0));
    TestServer.Response png =
        server.request(HttpMethod.GET, "/api/jobs/" + id + "/frames/latent.png", null, null);
    assertEquals(200, png.status());
    var latentImage = ImageIO.read(new ByteArrayInputStream(png.body().getBytes()));
    assertNotNull(latentImage, "latent.png decodes");
    assertTrue(
        latentImage.getWidth() >= 512 && latentImage.getHeight() >= 512,
        "the 512-pixel scatter plot (and its legend): "
            + latentImage.getWidth()
            + "x"
            + latentImage.getHeight());
    assertTrue(
        java.util.stream.IntStream.range(0, 512 * 512)
                .map(i -> latentImage.getRGB(i % 512, i / 512))
                .distinct()
                .count()
            > 2,
        "points drawn on the plot");
    assertEquals(
        409,
        server
            .request(HttpMethod.POST, "/api/jobs/" + id + "/pause", TestServer.TOKEN, null)
            .status());
    assertEquals(
        404,
        server
            .request(HttpMethod.POST, "/api/jobs/" + id + "/explode", TestServer.TOKEN, null)
            .status());
    assertEquals(
        400,
        server
            .request(
                HttpMethod.POST,
                "/api/jobs/" + id + "/settings",
                TestServer.TOKEN,
                "{\"key\": \"lr\"}")
            .status());
    assertEquals(
        409,
        server
            .request(
                HttpMethod.POST,
                "/api/jobs/" + id + "/settings",
                TestServer.TOKEN,
                "{\"key\": \"lr\", \"value\": 0.1}")
            .status(),
        "a finished job has no live settings");
    assertEquals(
        400,
        server
            .request(HttpMethod.GET, "/api/jobs/" + id + "/frames/latent.png?step=x", null, null)
            .status());
    assertEquals(
        404,
        server
            .request(HttpMethod.GET, "/api/jobs/" + id + "/frames/metrics.csv", null, null)
            .status());
    JsonObject index =
        server.request(HttpMethod.GET, "/api/jobs/" + id + "/frames", null, null).json();
    assertEquals(
        new JsonArray().add(0).add(16),
        index.getJsonArray("manifold"),
        "before training, then at the epoch end");
    assertEquals(401, server.request(HttpMethod.DELETE, "/api/jobs/" + id, null, null).status());
    assertEquals(
        200, server.request(HttpMethod.DELETE, "/api/jobs/" + id, TestServer.TOKEN, null).status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/" + id, null, null).status());
  }

  @Test
  void subscribersReceiveLossAndEveryImageStreamThenLateJoinersGetTheHistory() throws Exception {
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      JsonObject job = server.startJob(server.spec(6, 2));
      // The latent scatter as the rendered PNG, like the other streams (by default it comes as
      // points).
      c.send(TestServer.message("subscribe", "s1", job.getString("id")).put("latentFormat", "png"));
      JsonObject subscribed = c.nextType("subscribed", 10);
      assertEquals("s1", subscribed.getString("id"));
      JsonObject loss = c.nextType("loss", 30);
      assertTrue(loss.getJsonObject("columns").getJsonArray("step").size() >= 1);
      assertTrue(loss.getJsonObject("columns").containsKey("kl"));
      Set<Integer> kinds = new HashSet<>();
      boolean epoch = false;
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      while (kinds.size() < 4) {
        assertTrue(System.nanoTime() < until, "a frame of every kind within 60 s; got " + kinds);
        // Frames wait for the viewer's byte budget while the tiny job races on: its epoch messages
        // are counted
        // here, in the one ordered queue, rather than skipped.
        Object o = c.received.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (o instanceof JsonObject j) {
          epoch |= "epoch".equals(j.getString("type"));
          continue;
        }
        if (!(o instanceof Buffer frame)) {
          continue;
        }
        assertEquals(1, frame.getByte(0), "protocol version");
        assertEquals(1, frame.getByte(2), "PNG");
        assertEquals(job.getInteger("num"), frame.getInt(4));
        int width = frame.getShort(20) & 0xffff;
        var img = ImageIO.read(new ByteArrayInputStream(frame.getBytes(24, frame.length())));
        assertEquals(width, img.getWidth());
        kinds.add((int) frame.getByte(1));
      }
      assertEquals(Set.of(1, 2, 3, 4), kinds);
      if (!epoch) {
        c.nextType("epoch", 30);
      }
      TestServer.awaitStatus(server, job.getString("id"), "completed", 60);

      try (TestServer.Client late = server.connect(null, null)) {
        late.subscribe(2, job.getInteger("num"), "loss", "manifold");
        JsonObject history = late.nextType("history", 10);
        assertEquals(
            96,
            history.getJsonObject("columns").getJsonArray("step").size(),
            "6 epochs of 16 steps");
        assertEquals(6, history.getJsonObject("test").getJsonArray("loss").size());
        Buffer manifold = late.nextFrame(4, 10);
        assertEquals(96, manifold.getLong(8), "the latest manifold frame, from the last step");
      }
    }
  }

  @Test
  void everyBadMessageGetsItsErrorAndTheConnectionStaysOpen() throws Exception {
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      String[][] cases = {
        {"{oops", "bad_json"},
        {"[1,2]", "bad_json"},
        {"{\"type\":\"fly\",\"id\":1}", "unknown_type"},
        {"{\"id\":1}", "bad_field"},
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":true}", "bad_field"},
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":\"nope\"}", "unknown_job"},
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":1,\"streams\":[\"smells\"]}", "bad_field"},
        {"{\"type\":\"hello\",\"id\":1,\"version\":2}", "unsupported_version"},
        {"{\"type\":\"hello\",\"id\":1,\"version\":1,\"token\":\"wrong\"}", "unauthorized"},
        {"{\"type\":\"pause\",\"id\":1,\"job\":1}", "unauthorized"},
        {"{\"type\":\"set\",\"id\":1,\"job\":1,\"key\":\"lr\",\"value\":\"x\"}", "bad_field"},
        {"{\"type\":\"decode\",\"job\":1,\"z\":[[0,0]]}", "bad_field"},
        {"{\"type\":\"encode\",\"id\":1,\"job\":1}", "bad_field"},
        {"{\"type\":\"start\",\"id\":1}", "bad_field"},
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":1,\"streams\":[]}", "bad_field"},
        {"{\"type\":\"interpolate\",\"id\":1,\"job\":\"nope\"}", "unknown_job"},
        {"{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}", "too_large"},
        {"{\"type\":\"ping\",\"pad\":\"" + "€".repeat(65_043) + "\"}", "too_large"},
        {
          "{\"type\":\"interpolate\",\"id\":1,\"job\":1,\"from\":{\"index\":4294967301},\"to\":{\"index\":1}}",
          "bad_field"
        },
        {
          "{\"type\":\"interpolate\",\"id\":1,\"job\":1,\"from\":{\"index\":9223372036854775808},\"to\":{\"index\":1}}",
          "bad_field"
        },
        {
          "{\"type\":\"interpolate\",\"id\":1,\"job\":1,\"from\":{\"index\":1.9},\"to\":{\"index\":1}}",
          "bad_field"
        },
        {
          "{\"type\":\"interpolate\",\"id\":1,\"job\":1,\"from\":{\"index\":-0.9},\"to\":{\"index\":1}}",
          "bad_field"
        },
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":4294967297}", "bad_field"},
        {"{\"type\":\"subscribe\",\"id\":1,\"job\":1,\"maxFps\":0}", "bad_field"},
      };
      for (String[] k : cases) {
        c.ws.writeTextMessage(k[0]);
        JsonObject e;
        try {
          e = c.nextType("error", 10);
        } catch (AssertionError timeout) {
          throw new AssertionError(
              "no error for " + k[0].substring(0, Math.min(60, k[0].length())), timeout);
        }
        assertEquals(
            k[1],
            e.getString("code"),
            k[0].substring(0, Math.min(60, k[0].length())) + " → " + e.encode());
        assertTrue(e.getString("message").length() > 5);
        for (String internal :
            new String[] {"Jackson", "java.", "LinkedHashMap", "Source:", "Failed to decode"}) {
          assertTrue(
              !e.getString("message").contains(internal),
              "written for people: " + e.getString("message"));
        }
      }
      c.ws.writeBinaryMessage(io.vertx.core.buffer.Buffer.buffer(new byte[] {1, 2, 3}));
      assertEquals(
          "bad_field", c.nextType("error", 10).getString("code"), "binary messages are refused");
      c.send(new JsonObject().put("type", "ping").put("id", "still-there"));
      assertEquals("still-there", c.nextType("pong", 10).getString("id"));
    }
  }

  @Test
  void invalidUtf8InATextMessageClosesTheSocketWith1007() throws Exception {
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      // One text message in two frames: "{" and then bytes that are not UTF-8 (0xC3 0x28).
      c.ws.writeFrame(io.vertx.core.http.WebSocketFrame.textFrame("{", false));
      c.ws.writeFrame(
          io.vertx.core.http.WebSocketFrame.continuationFrame(
              Buffer.buffer(
                  new byte[] {'"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}),
              true));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.closeCode == null) {
        assertTrue(System.nanoTime() < end, "closed within 10 s");
        Object o = c.received.poll(50, TimeUnit.MILLISECONDS);
        assertTrue(
            !(o instanceof JsonObject j) || !"error".equals(j.getString("type")),
            "closed, not answered: " + o);
      }
      assertEquals((short) 1007, c.closeCode, c.closeReason);
    }
  }

  /** A job for the token tests: short, and finished before they run. */
  static String finishedJob;

  static synchronized String finishedJob() throws Exception {
    if (finishedJob == null) {
      finishedJob = server.startJob(server.spec(1, 0)).getString("id");
      TestServer.awaitStatus(server, finishedJob, "completed", 60);
    }
    return finishedJob;
  }

  @ParameterizedTest(name = "WebSocket {0} without the token is unauthorized")
  @ValueSource(strings = {"start", "set", "pause", "resume", "stop", "delete"})
  void everyTokenGuardedWebSocketMessageNeedsTheToken(String type) throws Exception {
    String job = finishedJob();
    JsonObject m = new JsonObject().put("type", type).put("id", "t").put("job", job);
    switch (type) {
      case "start" -> m.remove("job");
      case "set" -> m.put("key", "lr").put("value", 0.001);
      default -> {}
    }
    if ("start".equals(type)) {
      m.put("spec", server.spec(1, 0));
    }
    try (TestServer.Client c = server.connect(null, null)) {
      assertEquals(false, c.nextType("welcome", 10).getBoolean("authorized"));
      c.send(m);
      JsonObject reply = c.next(j -> "t".equals(j.getString("id")), 10);
      assertEquals("error", reply.getString("type"), reply.encode());
      assertEquals("unauthorized", reply.getString("code"), reply.encode());
    }
    assertEquals(
        200,
        server.request(HttpMethod.GET, "/api/jobs/" + job, null, null).status(),
        "the job is still there");
  }

  @ParameterizedTest(name = "REST {0} {1} without the token is 401")
  @CsvSource({
    "POST, /api/jobs",
    "POST, /api/jobs/JOB/settings",
    "POST, /api/jobs/JOB/pause",
    "POST, /api/jobs/JOB/resume",
    "POST, /api/jobs/JOB/stop",
    "DELETE, /api/jobs/JOB",
    "GET, /api/jobs/JOB/checkpoint"
  })
  void everyTokenGuardedRestRouteNeedsTheToken(String method, String path) throws Exception {
    String job = finishedJob();
    String body =
        path.endsWith("settings")
            ? "{\"key\": \"lr\", \"value\": 0.001}"
            : path.equals("/api/jobs")
                ? new JsonObject().put("spec", server.spec(1, 0)).encode()
                : null;
    for (String token : new String[] {null, "wrong-token-0123456789"}) {
      TestServer.Response r =
          server.request(HttpMethod.valueOf(method), path.replace("JOB", job), token, body);
      assertEquals(401, r.status(), method + " " + path + " with " + token + ": " + r.body());
    }
    assertEquals(
        200,
        server.request(HttpMethod.GET, "/api/jobs/" + job, null, null).status(),
        "the job is still there");
  }

  /** The HTTP status that refused a WebSocket handshake (failing the test when it was accepted). */
  static int handshakeStatus(String path, String origin) throws Exception {
    var client = server.vertx.createWebSocketClient();
    try {
      var options =
          new io.vertx.core.http.WebSocketConnectOptions()
              .setHost("127.0.0.1")
              .setPort(server.port())
              .setURI(path);
      if (origin != null) {
        options.addHeader("Origin", origin);
      }
      var ws = client.connect(options).toCompletionStage().toCompletableFuture();
      ExecutionException refused =
          assertThrows(ExecutionException.class, () -> ws.get(10, TimeUnit.SECONDS));
      UpgradeRejectedException rejected =
          assertInstanceOf(UpgradeRejectedException.class, refused.getCause());
      return rejected.getStatus();
    } finally {
      client.close();
    }
  }

  @Test
  void foreignOriginsAreRefusedAndTheTokenUnlocksControl() throws Exception {
    assertEquals(403, handshakeStatus("/ws", "http://evil.example"), "a foreign Origin");
    assertEquals(
        403,
        handshakeStatus("/ws", "http://127.0.0.1:" + (server.port() + 1)),
        "another port is another origin");
    assertEquals(404, handshakeStatus("/socket", null), "only /ws takes WebSockets");
    try (TestServer.Client same = server.connect(null, "http://127.0.0.1:" + server.port())) {
      assertEquals(false, same.nextType("welcome", 10).getBoolean("authorized"));
    }
    JsonObject job = server.startJob(server.spec(1000, 0));
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      c.send(new JsonObject().put("type", "stop").put("id", 1).put("job", job.getString("id")));
      assertEquals("unauthorized", c.nextType("error", 10).getString("code"));
      c.send(
          new JsonObject()
              .put("type", "hello")
              .put("id", 2)
              .put("version", 1)
              .put("token", TestServer.TOKEN));
      assertTrue(c.nextType("hello", 10).getBoolean("authorized"));
      c.send(new JsonObject().put("type", "stop").put("id", 3).put("job", job.getString("id")));
      assertEquals("stopped", c.next(j -> "3".equals(j.getString("id")), 10).getString("type"));
      TestServer.awaitStatus(server, job.getString("id"), "stopped", 30);
    }
  }
}
