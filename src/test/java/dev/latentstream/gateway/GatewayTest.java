package dev.latentstream.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP side as clients meet it: handshakes, limits across event loops, REST bodies, deletion.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayTest {

  @TempDir static Path root;
  static TestServer server;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server =
        new TestServer(
            root, new JsonObject().put("maxConnectionsPerIp", 3).put("maxConcurrentJobs", 1));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Opens /ws with {@code origin}; returns the socket, or throws the handshake's HTTP status. */
  static WebSocket open(String origin, Listener listener) throws Exception {
    WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    if (origin != null) {
      b.header("Origin", origin);
    }
    try {
      return b.buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/ws"), listener)
          .get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        throw new HandshakeRefused(h.getResponse().statusCode());
      }
      throw e;
    }
  }

  static final class HandshakeRefused extends Exception {
    final int status;

    HandshakeRefused(int status) {
      super("handshake refused with " + status);
      this.status = status;
    }
  }

  static int refusal(String origin) throws Exception {
    try {
      open(origin, new Listener()).abort();
      return 101;
    } catch (HandshakeRefused r) {
      return r.status;
    }
  }

  @Test
  void aPageServedAsLocalhostMayOpenItsSocketOnALoopbackServer() throws Exception {
    assertEquals(101, refusal("http://localhost:" + server.port()));
    assertEquals(101, refusal("http://127.0.0.1:" + server.port()));
    assertEquals(101, refusal("http://[::1]:" + server.port()));
  }

  @Test
  void otherOriginsAndOtherPortsAreRefusedWith403() throws Exception {
    assertEquals(403, refusal("http://evil.example:" + server.port()));
    assertEquals(403, refusal("http://localhost:" + (server.port() + 1)));
    assertEquals(403, refusal("http://localhost"));
  }

  @Test
  void thePerAddressLimitHoldsAcrossEventLoops() throws Exception {
    List<WebSocket> open = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        open.add(open(null, new Listener()));
      }
      assertEquals(
          429, refusal(null), "a fourth socket from one address, whichever event loop takes it");
    } finally {
      open.forEach(WebSocket::abort);
    }
  }

  @Test
  void aSingleFrameLargerThanAnyMessageClosesWith1009() throws Exception {
    Listener l = new Listener();
    WebSocket ws = open(null, l);
    ws.sendText("x".repeat(5 * 65536), true);
    assertEquals(1009, l.closed.get(20, TimeUnit.SECONDS));
  }

  @Test
  void aMessageOverTheLimitSentInSmallFragmentsClosesWith1009AndTheServerServesOn()
      throws Exception {
    // Each fragment is well under any frame limit; together they pass the message limit (4 x
    // maxMessageBytes).
    Listener l = new Listener();
    WebSocket ws = open(null, l);
    String fragment = "x".repeat(65536);
    try {
      for (int i = 0; i < 5 && !l.closed.isDone(); i++) {
        ws.sendText(fragment, false).get(20, TimeUnit.SECONDS);
      }
      if (!l.closed.isDone()) {
        ws.sendText("", true).get(20, TimeUnit.SECONDS);
      }
    } catch (ExecutionException closedUnderUs) {
      // the server closed the socket before the last fragment went out: what is asserted next
    }
    assertEquals(1009, l.closed.get(20, TimeUnit.SECONDS));
    Listener next = new Listener();
    WebSocket again = open(null, next);
    try {
      assertEquals("welcome", next.received.poll(20, TimeUnit.SECONDS).getString("type"));
    } finally {
      again.abort();
    }
  }

  @Test
  void restBodiesWithUnknownKeysAreRefusedNamingTheKey() throws Exception {
    var r =
        server.request(
            HttpMethod.POST,
            "/api/jobs",
            TestServer.TOKEN,
            new JsonObject().put("spec", server.spec(1, 0)).put("epoch", 3).encode());
    assertEquals(400, r.status());
    assertTrue(
        r.json().getJsonObject("error").getString("message").contains("\"epoch\""),
        r.body().toString());
  }

  @Test
  void anOversizedBodyGets413InTheApiErrorShape() throws Exception {
    var r =
        server.request(
            HttpMethod.POST,
            "/api/jobs",
            TestServer.TOKEN,
            "{\"spec\":\"" + "a".repeat(200_000) + "\"}");
    assertEquals(413, r.status());
    assertEquals(413, r.json().getJsonObject("error").getInteger("status"));
  }

  @Test
  void deletingAJobStoppedWhileQueuedWorksAndEveryClientHearsOfIt() throws Exception {
    JsonObject running = server.startJob(server.spec(50, 0));
    JsonObject queued = server.startJob(server.spec(1, 0));
    assertEquals("queued", queued.getString("status"));
    Listener watcher = new Listener();
    WebSocket ws = open(null, watcher);
    try {
      var stop =
          server.request(
              HttpMethod.POST,
              "/api/jobs/" + queued.getString("id") + "/stop",
              TestServer.TOKEN,
              null);
      assertEquals(200, stop.status(), stop.body().toString());
      var delete =
          server.request(
              HttpMethod.DELETE, "/api/jobs/" + queued.getString("id"), TestServer.TOKEN, null);
      assertEquals(200, delete.status(), delete.body().toString());
      assertTrue(
          !delete.body().toString().contains(root.toString()),
          "no server path in " + delete.body());
      JsonObject deleted = watcher.next("deleted", 20);
      assertEquals(queued.getString("id"), deleted.getString("jobId"));
      JsonArray jobs =
          new JsonArray(server.request(HttpMethod.GET, "/api/jobs", null, null).body());
      assertTrue(
          jobs.stream()
              .noneMatch(j -> queued.getString("id").equals(((JsonObject) j).getString("id"))));
    } finally {
      ws.abort();
      server.request(
          HttpMethod.POST,
          "/api/jobs/" + running.getString("id") + "/stop",
          TestServer.TOKEN,
          null);
    }
  }

  /** Queues text messages as JSON; completes {@link #closed} with the close code. */
  static class Listener implements WebSocket.Listener {
    final LinkedBlockingQueue<JsonObject> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        received.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, java.nio.ByteBuffer data, boolean last) {
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }

    JsonObject next(String type, int seconds) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end) {
        JsonObject m = received.poll(100, TimeUnit.MILLISECONDS);
        if (m != null && type.equals(m.getString("type"))) {
          return m;
        }
      }
      fail("no " + type + " message within " + seconds + " s");
      return null;
    }
  }
}
