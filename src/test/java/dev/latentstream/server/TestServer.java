package dev.latentstream.server;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.testing.SyntheticIdx;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real server on a loopback port, training on a small synthetic dataset, plus blocking test
 * clients.
 */
public final class TestServer implements AutoCloseable {

  public static final String TOKEN = "test-token-0123456789";

  final Vertx vertx = Vertx.vertx();

  /** The blocking clients' own event loops: client work never runs on a server thread. */
  final Vertx clientVertx = Vertx.vertx();

  final ServerApp.Running running;
  final Path dataDir;

  public TestServer(Path root, JsonObject overrides) throws Exception {
    this(root, overrides, null);
  }

  /**
   * A server that starts {@code firstJob} (a job file's JSON, may be null) as {@code serve} starts
   * its default job.
   */
  public TestServer(Path root, JsonObject overrides, JsonObject firstJob) throws Exception {
    dataDir = root.resolve("synthetic");
    SyntheticIdx.write(dataDir, 512, 128, 11);
    JsonObject json =
        new JsonObject()
            .put("port", 0)
            .put("token", TOKEN)
            .put("runsDir", root.resolve("runs").toString())
            .put("lossBatchMs", 50)
            .put("maxConcurrentJobs", 4)
            .put("dataDir", root.toString())
            .mergeIn(overrides);
    ServerConfig config = ServerConfig.fromJson(json, "test");
    running =
        ServerApp.start(
                vertx,
                config,
                firstJob == null
                    ? null
                    : dev.latentstream.config.JobConfigs.parse(
                        firstJob.encode(), "first job", "test"))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
  }

  public int port() {
    return running.port();
  }

  /** A tiny VAE spec on this server's synthetic data. */
  public JsonObject spec(int epochs, int frameEvery) {
    return tinyVae(epochs, frameEvery, dataDir);
  }

  /**
   * The tests' job: a 64-unit VAE with a 2-D latent, batches of 32, on the IDX data in {@code
   * dataset}.
   */
  static JsonObject tinyVae(int epochs, int frameEvery, Path dataset) {
    return new JsonObject()
        .put("model", "vae")
        .put("hidden", new io.vertx.core.json.JsonArray().add(64))
        .put("latent", 2)
        .put("batchSize", 32)
        .put("epochs", epochs)
        .put("frameEverySteps", frameEvery)
        .put("dataset", dataset.toString());
  }

  public record Response(int status, Buffer body, java.net.http.HttpHeaders headers) {
    public JsonObject json() {
      return body.toJsonObject();
    }
  }

  private final java.net.http.HttpClient plainHttp = java.net.http.HttpClient.newHttpClient();

  /**
   * The server's count of interactive requests of type {@code op} (decode, encode, interpolate,
   * attribute) clients sent, read from {@code GET /metrics}.
   */
  public long modelRequests(String op) throws Exception {
    Response r = request(HttpMethod.GET, "/metrics", TOKEN, null);
    if (r.status() != 200) {
      throw new AssertionError("GET /metrics: " + r.status() + " " + r.body());
    }
    return (long)
        dev.latentstream.ops.PrometheusText.parse(r.body().toString())
            .one("latentstream_stream_model_requests_total", java.util.Map.of("op", op))
            .value();
  }

  public Response request(HttpMethod method, String path, String token, String body)
      throws Exception {
    var b =
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port() + path))
            .timeout(java.time.Duration.ofSeconds(30))
            .method(
                method.name(),
                body == null
                    ? java.net.http.HttpRequest.BodyPublishers.noBody()
                    : java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    var r = plainHttp.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    return new Response(r.statusCode(), Buffer.buffer(r.body()), r.headers());
  }

  public JsonObject startJob(JsonObject spec) throws Exception {
    Response r =
        request(HttpMethod.POST, "/api/jobs", TOKEN, new JsonObject().put("spec", spec).encode());
    if (r.status() != 201) {
      throw new AssertionError("start failed: " + r.status() + " " + r.body());
    }
    return r.json();
  }

  /** A client message of {@code type} for {@code job} (its num or id), as request {@code id}. */
  static JsonObject message(String type, String id, Object job) {
    return new JsonObject().put("type", type).put("id", id).put("job", job);
  }

  /** Stops job {@code id} through the REST API. */
  public Response stopJob(String id) throws Exception {
    return request(HttpMethod.POST, "/api/jobs/" + id + "/stop", TOKEN, null);
  }

  /** Starts a job and waits (at most 60 s) until it is running; returns its id. */
  public String startRunning(JsonObject spec) throws Exception {
    String id = startJob(spec).getString("id");
    awaitStatus(this, id, "running", 60);
    return id;
  }

  Client connect(String query, String origin) throws Exception {
    return connect(query, origin, new io.vertx.core.http.WebSocketClientOptions());
  }

  /**
   * A client with {@code options} (e.g. a small receive buffer, so that a paused client backs up
   * soon).
   */
  Client connect(String query, String origin, io.vertx.core.http.WebSocketClientOptions options)
      throws Exception {
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(port())
            .setURI("/ws" + (query == null ? "" : "?" + query));
    if (origin != null) {
      o.addHeader("Origin", origin);
    }
    // The handlers must be in place before the first message (welcome) arrives: set them before
    // connecting.
    // The Client keeps the WebSocketClient reachable: an unreachable client is closed,
    // mid-handshake too.
    var client =
        clientVertx.createWebSocketClient(
            new io.vertx.core.http.WebSocketClientOptions(options).setMaxMessageSize(64 << 20));
    var ws = client.webSocket();
    Client c = new Client(ws, client);
    ws.connect(o).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return c;
  }

  /** A WebSocket client that queues what it receives. */
  static final class Client implements ProtocolSocket, AutoCloseable {
    final WebSocket ws;
    final io.vertx.core.http.WebSocketClient client;
    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    volatile Short closeCode;
    volatile String closeReason;

    Client(WebSocket ws, io.vertx.core.http.WebSocketClient client) {
      this.ws = ws;
      this.client = client;
      ws.textMessageHandler(t -> received.add(new JsonObject(t)));
      ws.binaryMessageHandler(received::add);
      ws.closeHandler(
          v -> {
            closeCode = ws.closeStatusCode();
            closeReason = ws.closeReason();
          });
    }

    @Override
    public void send(JsonObject m) {
      ws.writeTextMessage(m.encode());
    }

    @Override
    public JsonObject next(Predicate<JsonObject> p, long seconds) throws InterruptedException {
      return TestServer.next(received, p, seconds);
    }

    Buffer nextFrame(int kind, long seconds) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        Object o = received.poll(100, TimeUnit.MILLISECONDS);
        if (o instanceof Buffer b && (kind == 0 || b.getByte(1) == kind)) {
          return b;
        }
      }
      throw new AssertionError("no frame of kind " + kind + " within " + seconds + " s");
    }

    @Override
    public void close() {
      ws.close().compose(v -> client.close());
    }
  }

  @Override
  public void close() throws Exception {
    running.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    clientVertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /**
   * The next JSON message in {@code received} (a WebSocket client's queue of JSON messages and
   * binary frames) matching {@code p}, skipping others; fails after the timeout.
   */
  static JsonObject next(BlockingQueue<Object> received, Predicate<JsonObject> p, long seconds)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      Object o = received.poll(100, TimeUnit.MILLISECONDS);
      if (o instanceof JsonObject j && p.test(j)) {
        return j;
      }
    }
    throw new AssertionError("no matching message within " + seconds + " s");
  }

  /** A run that a server stopped: its id and the step it stopped at. */
  public record StoppedRun(String id, long step) {}

  /**
   * A job of {@code epochs} epochs trained on a fresh server at {@code root} until its first epoch
   * ends, then stopped and the server closed: the past run a restarted server finds.
   */
  public static StoppedRun stoppedAfterFirstEpoch(Path root, int epochs) throws Exception {
    try (TestServer first = new TestServer(root, new JsonObject())) {
      String id = first.startJob(first.spec(epochs, 0)).getString("id");
      long end = System.nanoTime() + 60_000_000_000L;
      while (first.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json().getInteger("epoch")
              < 1
          && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      first.request(HttpMethod.POST, "/api/jobs/" + id + "/stop", TOKEN, null);
      awaitStatus(first, id, "stopped", 30);
      return new StoppedRun(
          id, first.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json().getLong("step"));
    }
  }

  public static void awaitStatus(TestServer s, String id, String status, long seconds)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      JsonObject j = s.request(HttpMethod.GET, "/api/jobs/" + id, TOKEN, null).json();
      if (status.equals(j.getString("status"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job " + id + " did not become " + status);
  }

  static void deleteRecursively(Path p) throws IOException {
    if (Files.exists(p)) {
      try (var s = Files.walk(p)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}
