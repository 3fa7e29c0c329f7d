package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

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
    assertNotNull(info.getString("nativeBridge"));
    JsonArray presets = new JsonArray(server.request(HttpMethod.GET, "/api/presets", null, null).body());
    assertTrue(presets.stream().anyMatch(p -> "vae-fashion".equals(((JsonObject) p).getString("name"))));
  }

  @Test
  void stateChangesNeedTheTokenAndBadRequestsGetClearErrors() throws Exception {
    String spec = new JsonObject().put("spec", server.spec(1, 0)).encode();
    assertEquals(401, server.request(HttpMethod.POST, "/api/jobs", null, spec).status());
    assertEquals(401, server.request(HttpMethod.POST, "/api/jobs", "wrong-token-xxxx", spec).status());
    TestServer.Response bad = server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, "{not json");
    assertEquals(400, bad.status());
    TestServer.Response badSpec = server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN,
        new JsonObject().put("spec", new JsonObject().put("model", "vae").put("lr", -1)).encode());
    assertEquals(400, badSpec.status());
    assertTrue(badSpec.json().getJsonObject("error").getString("message").contains("\"lr\""), badSpec.body().toString());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/nope", null, null).status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/..%2F..%2Fpom.xml/metrics", null, null).status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/x/frames/..%2F..%2Fpom.xml", null, null).status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/nothing", null, null).status());

    JsonObject job = server.startJob(server.spec(1, 0));
    String id = job.getString("id");
    TestServer.awaitStatus(server, id, "completed", 60);
    TestServer.Response csv = server.request(HttpMethod.GET, "/api/jobs/" + id + "/metrics", null, null);
    assertTrue(csv.body().toString().startsWith("step,epoch,recon,kl,loss,test_loss"), csv.body().toString());
    JsonObject cols = server.request(HttpMethod.GET, "/api/jobs/" + id + "/metrics?format=json", null, null).json();
    assertEquals(16, cols.getJsonArray("step").size());
    assertEquals(401, server.request(HttpMethod.GET, "/api/jobs/" + id + "/checkpoint", null, null).status());
    TestServer.Response ckpt = server.request(HttpMethod.GET, "/api/jobs/" + id + "/checkpoint", TestServer.TOKEN, null);
    assertEquals(200, ckpt.status());
    assertEquals('P', ckpt.body().getByte(0));
    TestServer.Response png = server.request(HttpMethod.GET, "/api/jobs/" + id + "/frames/latent.png", null, null);
    assertEquals(200, png.status());
    assertNotNull(ImageIO.read(new ByteArrayInputStream(png.body().getBytes())));
    assertEquals(409, server.request(HttpMethod.POST, "/api/jobs/" + id + "/pause", TestServer.TOKEN, null).status());
    assertEquals(401, server.request(HttpMethod.DELETE, "/api/jobs/" + id, null, null).status());
    assertEquals(200, server.request(HttpMethod.DELETE, "/api/jobs/" + id, TestServer.TOKEN, null).status());
    assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/" + id, null, null).status());
  }

  @Test
  void subscribersReceiveLossAndEveryImageStreamThenLateJoinersGetTheHistory() throws Exception {
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      JsonObject job = server.startJob(server.spec(2, 4));
      c.send(new JsonObject().put("type", "subscribe").put("id", "s1").put("job", job.getString("id")));
      JsonObject subscribed = c.nextType("subscribed", 10);
      assertEquals("s1", subscribed.getString("id"));
      JsonObject loss = c.nextType("loss", 30);
      assertTrue(loss.getJsonObject("columns").getJsonArray("step").size() >= 1);
      assertTrue(loss.getJsonObject("columns").containsKey("kl"));
      Set<Integer> kinds = new HashSet<>();
      while (kinds.size() < 4) {
        Buffer frame = c.nextFrame(0, 30);
        assertEquals(1, frame.getByte(0), "protocol version");
        assertEquals(1, frame.getByte(2), "PNG");
        assertEquals(job.getInteger("num"), frame.getInt(4));
        int width = frame.getShort(20) & 0xffff;
        var img = ImageIO.read(new ByteArrayInputStream(frame.getBytes(24, frame.length())));
        assertEquals(width, img.getWidth());
        kinds.add((int) frame.getByte(1));
      }
      assertEquals(Set.of(1, 2, 3, 4), kinds);
      c.nextType("epoch", 30);
      TestServer.awaitStatus(server, job.getString("id"), "completed", 60);

      try (TestServer.Client late = server.connect(null, null)) {
        late.send(new JsonObject().put("type", "subscribe").put("id", 2).put("job", job.getInteger("num"))
            .put("streams", new JsonArray().add("loss").add("manifold")));
        JsonObject history = late.nextType("history", 10);
        assertEquals(32, history.getJsonObject("columns").getJsonArray("step").size(), "2 epochs of 16 steps");
        assertEquals(2, history.getJsonObject("test").getJsonArray("loss").size());
        Buffer manifold = late.nextFrame(4, 10);
        assertEquals(32, manifold.getLong(8), "the latest manifold frame, from the last step");
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
          {"{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}", "too_large"},
      };
      for (String[] k : cases) {
        c.ws.writeTextMessage(k[0]);
        JsonObject e;
        try {
          e = c.nextType("error", 10);
        } catch (AssertionError timeout) {
          throw new AssertionError("no error for " + k[0].substring(0, Math.min(60, k[0].length())), timeout);
        }
        assertEquals(k[1], e.getString("code"), k[0].substring(0, Math.min(60, k[0].length())) + " → " + e.encode());
        assertTrue(e.getString("message").length() > 5);
      }
      c.send(new JsonObject().put("type", "ping").put("id", "still-there"));
      assertEquals("still-there", c.nextType("pong", 10).getString("id"));
    }
  }

  @Test
  void foreignOriginsAreRefusedAndTheTokenUnlocksControl() throws Exception {
    assertThrows(Exception.class, () -> server.connect(null, "http://evil.example"));
    try (TestServer.Client same = server.connect(null, "http://127.0.0.1:" + server.port())) {
      assertEquals(false, same.nextType("welcome", 10).getBoolean("authorized"));
    }
    JsonObject job = server.startJob(server.spec(40, 0));
    try (TestServer.Client c = server.connect(null, null)) {
      c.nextType("welcome", 10);
      c.send(new JsonObject().put("type", "pause").put("id", 1).put("job", job.getString("id")));
      assertEquals("unauthorized", c.nextType("error", 10).getString("code"));
      c.send(new JsonObject().put("type", "hello").put("id", 2).put("version", 1).put("token", TestServer.TOKEN));
      assertTrue(c.nextType("hello", 10).getBoolean("authorized"));
      TestServer.awaitStatus(server, job.getString("id"), "running", 30);
      c.send(new JsonObject().put("type", "pause").put("id", 3).put("job", job.getString("id")));
      assertEquals("paused", c.next(j -> "3".equals(j.getString("id")), 10).getString("type"));
      TestServer.awaitStatus(server, job.getString("id"), "paused", 10);

      c.send(new JsonObject().put("type", "decode").put("id", "d").put("job", job.getString("id"))
          .put("plane", new JsonArray().add(0.5).add(-0.5)));
      JsonObject decoded = c.next(j -> "d".equals(j.getString("id")), 20);
      assertEquals("decoded", decoded.getString("type"), decoded.encode());
      assertPng(decoded.getJsonObject("result").getJsonArray("images").getString(0));

      JsonArray pixels = new JsonArray();
      for (int i = 0; i < 784; i++) {
        pixels.add(i % 28 == 14 ? 1.0 : 0.0);
      }
      c.send(new JsonObject().put("type", "encode").put("id", "e").put("job", job.getString("id")).put("pixels", pixels));
      JsonObject encoded = c.next(j -> "e".equals(j.getString("id")), 20).getJsonObject("result");
      assertEquals(2, encoded.getJsonArray("mean").getJsonArray(0).size());
      assertEquals(2, encoded.getJsonArray("planeStd").getJsonArray(0).size());
      assertPng(encoded.getJsonArray("reconstructions").getString(0));

      c.send(new JsonObject().put("type", "encode").put("id", "short").put("job", job.getString("id"))
          .put("pixels", new JsonArray().add(0.5).add(0.5)));
      JsonObject shortPixels = c.next(j -> "short".equals(j.getString("id")), 20);
      assertEquals("bad_request", shortPixels.getString("code"));
      assertTrue(shortPixels.getString("message").contains("784"), shortPixels.encode());

      c.send(new JsonObject().put("type", "interpolate").put("id", "i").put("job", job.getString("id"))
          .put("from", new JsonObject().put("index", 0)).put("to", new JsonObject().put("index", 5))
          .put("steps", 6).put("mode", "spherical"));
      assertEquals(6, c.next(j -> "i".equals(j.getString("id")), 20).getJsonObject("result").getJsonArray("images").size());

      c.send(new JsonObject().put("type", "attribute").put("id", "a").put("job", job.getString("id"))
          .put("from", new JsonObject().put("index", 2)).put("plus", 1).put("minus", 0));
      JsonObject attributed = c.next(j -> "a".equals(j.getString("id")), 20).getJsonObject("result");
      assertEquals(2, attributed.getJsonArray("images").size());
      assertEquals("1 − 0", attributed.getString("label"));

      c.send(new JsonObject().put("type", "set").put("id", "lr").put("job", job.getString("id")).put("key", "lr")
          .put("value", 0.0005));
      assertEquals("set", c.next(j -> "lr".equals(j.getString("id")), 10).getString("type"));
      c.send(new JsonObject().put("type", "set").put("id", "noise").put("job", job.getString("id")).put("key", "noise")
          .put("value", 0.1));
      assertEquals("bad_request", c.next(j -> "noise".equals(j.getString("id")), 10).getString("code"));

      c.send(new JsonObject().put("type", "stop").put("id", 9).put("job", job.getString("id")));
      c.next(j -> "9".equals(j.getString("id")), 10);
      TestServer.awaitStatus(server, job.getString("id"), "stopped", 30);
    }
  }

  @Test
  void startUnsubscribeStopResumeFromCheckpointAndDeleteOverTheSocket() throws Exception {
    try (TestServer.Client c = server.connect("token=" + TestServer.TOKEN, null)) {
      assertTrue(c.nextType("welcome", 10).getBoolean("authorized"), "the token in the URL authorises");
      c.send(new JsonObject().put("type", "start").put("id", "go").put("spec", server.spec(60, 0)));
      JsonObject started = c.next(j -> "go".equals(j.getString("id")), 20);
      assertEquals("started", started.getString("type"), started.encode());
      String id = started.getJsonObject("result").getString("id");
      c.send(new JsonObject().put("type", "subscribe").put("id", "sub").put("job", id).put("streams", new JsonArray().add("loss")));
      c.next(j -> "sub".equals(j.getString("id")), 10);
      c.nextType("loss", 30);
      c.send(new JsonObject().put("type", "unsubscribe").put("id", "unsub").put("job", id));
      assertEquals("unsubscribed", c.next(j -> "unsub".equals(j.getString("id")), 10).getString("type"));
      // Wait for the first epoch's checkpoint, then stop.
      long end = System.nanoTime() + 60_000_000_000L;
      while (server.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json().getInteger("epoch") < 1
          && System.nanoTime() < end) {
        Thread.sleep(50);
      }
      c.send(new JsonObject().put("type", "stop").put("id", "halt").put("job", id));
      c.next(j -> "halt".equals(j.getString("id")), 10);
      TestServer.awaitStatus(server, id, "stopped", 30);
      c.send(new JsonObject().put("type", "resume").put("id", "again").put("job", id));
      JsonObject resumed = c.next(j -> "again".equals(j.getString("id")), 10);
      assertEquals("resumed", resumed.getString("type"), resumed.encode());
      assertTrue(resumed.getJsonObject("result").getInteger("epoch") >= 1, "continues from the checkpoint");
      TestServer.awaitStatus(server, id, "running", 30);
      c.send(new JsonObject().put("type", "delete").put("id", "busy").put("job", id));
      assertEquals("conflict", c.next(j -> "busy".equals(j.getString("id")), 10).getString("code"));
      c.send(new JsonObject().put("type", "stop").put("id", "halt2").put("job", id));
      c.next(j -> "halt2".equals(j.getString("id")), 10);
      TestServer.awaitStatus(server, id, "stopped", 30);
      c.send(new JsonObject().put("type", "delete").put("id", "gone").put("job", id));
      assertEquals("deleted", c.next(j -> "gone".equals(j.getString("id")), 10).getString("type"));
      assertEquals(404, server.request(HttpMethod.GET, "/api/jobs/" + id, null, null).status());
    }
  }

  static void assertPng(String base64) throws Exception {
    assertNotNull(ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(base64))));
  }
}
