package dev.latentstream.server;

import static dev.latentstream.server.ClusterNodes.jobs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Three real JVMs on loopback joined by Hazelcast ({@link ClusterNodes}): one trainer node and two
 * gateways. The steps run in order against the same cluster; the last one kills the trainer.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ClusterTest {

  static final String TOKEN = ClusterNodes.TOKEN;
  static final HttpClient HTTP = ClusterNodes.HTTP;

  static ClusterNodes nodes;
  static int http1;
  static int http2;

  @BeforeAll
  static void startCluster() throws Exception {
    nodes = new ClusterNodes("cluster-test", 3);
    nodes.syntheticJob("cluster-vae", 1000, new JsonObject());
    http1 = ClusterNodes.freePort();
    http2 = ClusterNodes.freePort();
    nodes.startTrainerAndGateways(http1, Map.of(), http2, Map.of(), 180);
  }

  @AfterAll
  static void stopCluster() {
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  @Order(1)
  void aClientOnEachGatewayGetsLossAndAllFourFrameKinds() throws Exception {
    for (int port : new int[] {http1, http2}) {
      try (Client c = Client.open(port)) {
        int job = c.firstJob();
        c.send(new JsonObject().put("type", "subscribe").put("id", "s").put("job", job));
        c.next(
            m -> "loss".equals(m.getString("type")) || "history".equals(m.getString("type")), 60);
        Set<Integer> kinds = new HashSet<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (kinds.size() < 4 && System.nanoTime() < end) {
          Object o = c.received.poll(100, TimeUnit.MILLISECONDS);
          if (o instanceof ByteBuffer b) {
            assertEquals(1, b.get(0), "frame header version");
            kinds.add((int) b.get(1));
          }
        }
        assertEquals(
            Set.of(1, 2, 3, 4), kinds, "frame kinds received through gateway on port " + port);
      }
    }
  }

  @Test
  @Order(2)
  void pauseThroughOneGatewayIsSeenOnTheOther() throws Exception {
    try (Client c1 = Client.open(http1);
        Client c2 = Client.open(http2)) {
      int job = c1.firstJob();
      c2.firstJob();
      c1.send(
          new JsonObject()
              .put("type", "hello")
              .put("id", "h")
              .put("version", 1)
              .put("token", TOKEN));
      c1.nextType("hello", 20);
      c1.send(new JsonObject().put("type", "pause").put("id", "p").put("job", job));
      c1.nextType("paused", 30);
      c2.next(
          m ->
              "status".equals(m.getString("type"))
                  && "paused".equals(m.getJsonObject("job").getString("status")),
          30);
      c1.send(new JsonObject().put("type", "resume").put("id", "r").put("job", job));
      c2.next(
          m ->
              "status".equals(m.getString("type"))
                  && "running".equals(m.getJsonObject("job").getString("status")),
          30);
    }
  }

  @Test
  @Order(3)
  void decodeThroughAGatewayReturnsAnImage() throws Exception {
    try (Client c = Client.open(http2)) {
      int job = c.firstJob();
      JsonObject reply =
          c.ask(
              TestServer.message("decode", "d", job)
                  .put("plane", new JsonArray().add(0.5).add(-0.5)),
              30);
      assertEquals("decoded", reply.getString("type"), reply.encode());
      byte[] bytes =
          Base64.getDecoder()
              .decode(reply.getJsonObject("result").getJsonArray("images").getString(0));
      assertEquals((byte) 0x89, bytes[0]);
      assertEquals('P', bytes[1]);
    }
  }

  @Test
  @Order(4)
  void aGatewayKilledAndRestartedOnADiskOfItsOwnServesTheJobAndItsPastAgain() throws Exception {
    nodes.kill("gateway1");
    Files.delete(nodes.log("gateway1"));
    // As on another machine: its runsDir is not the trainer's, so the run's past comes from the
    // trainer node.
    Path ownRuns = Files.createDirectories(nodes.dir.resolve("gateway1-own-runs"));
    nodes.start(
        "gateway1",
        "gateway",
        nodes.clusterPorts[1],
        Map.of("LATENTSTREAM_RUNS_DIR", ownRuns.toString()),
        "--port",
        Integer.toString(http1));
    nodes.awaitLog("gateway1", "serving at", 180);
    try (Client c = Client.open(http1)) {
      int job = c.firstJob();
      c.subscribe("s", job, "loss");
      JsonObject history = c.nextType("history", 60);
      JsonObject loss = c.nextType("loss", 60);
      JsonArray histSteps = history.getJsonObject("columns").getJsonArray("step");
      assertTrue(
          histSteps.size() > 0 && histSteps.getLong(0) <= 2,
          "a late gateway reads the history from the start: "
              + histSteps.size()
              + " points, first "
              + (histSteps.isEmpty() ? "none" : histSteps.getValue(0)));
      long lastHistory = histSteps.getLong(histSteps.size() - 1);
      assertTrue(
          loss.getJsonObject("columns").getJsonArray("step").getLong(0) > lastHistory,
          "live points continue after the history");

      String id = jobs(http1).getJsonObject(0).getString("id");
      HttpResponse<String> metrics =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + http1 + "/api/jobs/" + id + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, metrics.statusCode(), metrics.body());
      assertTrue(
          metrics.body().startsWith("step,epoch,") && metrics.body().lines().count() > 16,
          "metrics.csv relayed from the trainer node: " + metrics.body().lines().limit(3).toList());
      HttpResponse<byte[]> checkpoint = null;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < end && (checkpoint == null || checkpoint.statusCode() == 404)) {
        checkpoint = getWithToken(http1, "/api/jobs/" + id + "/checkpoint");
        Thread.sleep(checkpoint.statusCode() == 404 ? 500 : 0);
      }
      assertEquals(200, checkpoint.statusCode(), new String(checkpoint.body()));
      assertTrue(
          checkpoint.body().length > 1000, "the checkpoint's bytes: " + checkpoint.body().length);
      String decoder = "/api/jobs/" + id + "/model.safetensors?part=decoder";
      HttpResponse<byte[]> model = getWithToken(http1, decoder);
      assertEquals(200, model.statusCode(), new String(model.body()));
      int headerLength =
          (int)
              java.nio.ByteBuffer.wrap(model.body())
                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                  .getLong();
      assertTrue(
          new String(model.body(), 8, headerLength, java.nio.charset.StandardCharsets.UTF_8)
              .contains("decoder.linear0"),
          "the decoder, exported on the gateway from the trainer node's checkpoint");
      String etag = model.headers().firstValue("ETag").orElseThrow();
      HttpResponse<byte[]> unchanged = getWithToken(http1, decoder, "If-None-Match", etag);
      assertTrue(
          unchanged.statusCode() == 304
              || !etag.equals(unchanged.headers().firstValue("ETag").orElse(etag)),
          "304 unless a newer checkpoint came meanwhile: " + unchanged.statusCode());
      assertTrue(
          Files.list(ownRuns).findAny().isEmpty(), "nothing was written to the gateway's own disk");
    }
  }

  @Test
  @Order(5)
  void killingTheTrainerTurnsItsJobUnreachableOnEveryGatewayWithinTenSeconds() throws Exception {
    nodes.process("trainer").destroyForcibly();
    long start = System.nanoTime();
    for (int port : new int[] {http1, http2}) {
      while (!"unreachable".equals(jobs(port).getJsonObject(0).getString("status"))) {
        assertTrue(
            System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10),
            "job still "
                + jobs(port).getJsonObject(0).getString("status")
                + " on port "
                + port
                + " after 10 s");
        Thread.sleep(100);
      }
    }
    HttpResponse<String> pause =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + http1
                            + "/api/jobs/"
                            + jobs(http1).getJsonObject(0).getString("id")
                            + "/pause"))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(503, pause.statusCode(), pause.body());
  }

  /** GET {@code path} from the gateway on {@code port} with the token and {@code headers}. */
  static HttpResponse<byte[]> getWithToken(int port, String path, String... headers)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", "Bearer " + TOKEN);
    if (headers.length > 0) {
      request.headers(headers);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** A JDK WebSocket client that queues text messages as JSON and binary messages as buffers. */
  static final class Client implements WebSocket.Listener, ProtocolSocket, AutoCloseable {
    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private ByteBuffer binary = ByteBuffer.allocate(0);
    WebSocket ws;

    static Client open(int port) throws Exception {
      Client c = new Client();
      c.ws =
          HTTP.newWebSocketBuilder()
              .connectTimeout(Duration.ofSeconds(10))
              .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws"), c)
              .get(20, TimeUnit.SECONDS);
      return c;
    }

    /**
     * The trainer's job, from the welcome or, on a gateway that has not heard of it yet, the first
     * status.
     */
    int firstJob() throws InterruptedException {
      JsonObject first =
          next(
              m ->
                  "status".equals(m.getString("type"))
                      || "welcome".equals(m.getString("type")) && !m.getJsonArray("jobs").isEmpty(),
              60);
      return "status".equals(first.getString("type"))
          ? first.getJsonObject("job").getInteger("num")
          : first.getJsonArray("jobs").getJsonObject(0).getInteger("num");
    }

    @Override
    public void send(JsonObject m) {
      ws.sendText(m.encode(), true).join();
    }

    @Override
    public JsonObject next(Predicate<JsonObject> p, long seconds) throws InterruptedException {
      return TestServer.next(received, p, seconds);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        received.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      ByteBuffer grown = ByteBuffer.allocate(binary.remaining() + data.remaining());
      grown.put(binary).put(data).flip();
      binary = grown;
      if (last) {
        received.add(binary);
        binary = ByteBuffer.allocate(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public void close() {
      ws.abort();
    }
  }
}
