package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.web.Chromium;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The deployment docs/deployment.md describes, for real: Debian's HAProxy with the shipped {@code
 * config/haproxy.cfg} in front of two gateway JVMs, with a trainer JVM behind them, all on
 * loopback. Viewers come from loopback addresses of their own and reconnect as the page does; one
 * browser page rides along. The steps run in order against the same nodes: a gateway that is alive
 * but not ready gets nobody, the proxy forwards each viewer's address, a gateway that becomes ready
 * takes new viewers, and a gateway killed with {@code kill -9} hands every one of its viewers to
 * the other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(
    value = 600,
    unit = TimeUnit.SECONDS) // three JVMs starting on a loaded machine take minutes
class LoadBalancerTest {

  static final int VIEWERS = 12;

  /** Low, so that the viewers one gateway takes through one proxy address are over it. */
  static final int MAX_CONNECTIONS_PER_IP = 4;

  static ClusterNodes nodes;
  static Haproxy lb;
  static int http1;
  static int http2;

  /** A file where gateway2's runs directory should be: its /ready fails until it is removed. */
  static Path blocked;

  static int job;
  static Chromium chromium;
  static Chromium.Watched page;
  static final LossContinuity PAGE_LOSS = new LossContinuity("page");
  static final List<Viewer> BEFORE = new ArrayList<>();
  static final List<Viewer> AFTER = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    nodes = new ClusterNodes("lb-test", 3);
    nodes.syntheticJob("lb-vae", 100_000, new JsonObject());
    http1 = ClusterNodes.freePort();
    http2 = ClusterNodes.freePort();
    blocked = nodes.dir.resolve("gateway2-runs");
    Files.writeString(blocked, "a file where gateway2's runs directory should be");
    Map<String, String> behindProxy =
        Map.of(
            "LATENTSTREAM_TRUSTED_PROXIES",
            "127.0.0.1",
            "LATENTSTREAM_MAX_CONNECTIONS_PER_IP",
            Integer.toString(MAX_CONNECTIONS_PER_IP));
    Map<String, String> env2 = new java.util.HashMap<>(behindProxy);
    env2.put("LATENTSTREAM_RUNS_DIR", blocked.toString());
    nodes.startTrainerAndGateways(http1, behindProxy, http2, env2, 300);
    lb = new Haproxy(nodes.dir, ClusterNodes.freePort(), ClusterNodes.freePort(), http1, http2);
    await(
        () -> {
          try {
            return !ClusterNodes.jobs(http1).isEmpty();
          } catch (Exception e) {
            return false;
          }
        },
        60,
        "the trainer's job on gateway1");
    job = ClusterNodes.jobs(http1).getJsonObject(0).getInteger("num");
  }

  @AfterAll
  static void stop() {
    BEFORE.forEach(Viewer::close);
    AFTER.forEach(Viewer::close);
    if (chromium != null) {
      chromium.close();
    }
    if (lb != null) {
      lb.close();
    }
    if (nodes != null) {
      nodes.close();
    }
  }

  @Test
  @Order(1)
  void aGatewayThatIsAliveButNotReadyGetsNoViewers() throws Exception {
    lb.awaitStatus("gateway1", "UP", 30);
    Map<String, String> down = lb.awaitStatus("gateway2", "DOWN", 30);
    assertEquals("503", down.get("check_code"), "HAProxy's check is /ready: " + down);
    assertEquals(200, get(http2, "/health").statusCode(), "gateway2 is alive");
    assertTrue(
        get(http2, "/ready").body().contains("runsDir"),
        "and not ready because of its runs directory");

    chromium = new Chromium();
    page = chromium.open("about:blank", 1280, 900);
    page.page()
        .onWebSocket(
            ws -> {
              ws.onFrameReceived(
                  f -> {
                    String t = f.text();
                    if (t != null && t.startsWith("{\"")) {
                      PAGE_LOSS.received(new JsonObject(t));
                    }
                  });
              ws.onClose(w -> PAGE_LOSS.disconnected());
            });
    page.page().navigate("http://127.0.0.1:" + lb.port + "/");
    page.page()
        .waitForFunction(
            "() => document.getElementById('connection').textContent === 'live'"
                + " && window.latentstream.chart.pointCount() > 0");
    for (int i = 0; i < VIEWERS; i++) {
      BEFORE.add(viewer("before-" + i, 10 + i));
    }
    await(
        () -> BEFORE.stream().allMatch(v -> v.loss.histories() == 1),
        30,
        "a history for every viewer");
    assertEquals(0, lb.sessions("gateway2"), "nothing went to the gateway that is not ready");
    assertTrue(
        lb.sessions("gateway1") >= VIEWERS + 1,
        "the page and the viewers on gateway1: " + lb.stats());
  }

  @Test
  @Order(2)
  void theProxyForwardsEachViewersAddressSoTheLimitCountsViewersNotTheProxy() throws Exception {
    // Thirteen sockets came through one proxy address to gateway1, over its limit of four per
    // address: it
    // counted the viewers' own addresses. One address of its own still gets four and no more.
    HttpClient from =
        HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.0.9")).build();
    List<WebSocket> four = new ArrayList<>();
    for (int i = 0; i < MAX_CONNECTIONS_PER_IP; i++) {
      four.add(
          from.newWebSocketBuilder()
              .buildAsync(lbSocket(), new WebSocket.Listener() {})
              .get(10, TimeUnit.SECONDS));
    }
    try {
      from.newWebSocketBuilder()
          .buildAsync(lbSocket(), new WebSocket.Listener() {})
          .get(10, TimeUnit.SECONDS);
      throw new AssertionError("a fifth socket from 127.0.0.9 was accepted");
    } catch (ExecutionException e) {
      assertTrue(
          e.getCause() instanceof WebSocketHandshakeException h
              && h.getResponse().statusCode() == 429,
          "the fifth is refused with 429: " + e.getCause());
    } finally {
      four.forEach(WebSocket::abort);
    }
  }

  @Test
  @Order(3)
  void aGatewayThatBecomesReadyTakesNewViewers() throws Exception {
    Files.delete(blocked);
    long t0 = System.nanoTime();
    lb.awaitStatus("gateway2", "UP", 20);
    System.out.printf(
        "gateway2 up in HAProxy %.1f s after its runs directory could be made%n",
        (System.nanoTime() - t0) / 1e9);
    for (int i = 0; i < VIEWERS; i++) {
      AFTER.add(viewer("after-" + i, 30 + i));
    }
    await(
        () -> AFTER.stream().allMatch(v -> v.loss.histories() == 1),
        30,
        "a history for every new viewer");
    // Fewest connections first: gateway1 holds the page and the first viewers, so the new ones go
    // to gateway2.
    assertTrue(
        lb.sessions("gateway2") >= VIEWERS,
        "the new viewers on gateway2: " + lb.stats().get("gateway2"));
  }

  @Test
  @Order(4)
  void killingAGatewayMovesEveryViewerToTheOtherWithinTenSecondsWithNoGapOrRepeat()
      throws Exception {
    nodes.kill("gateway1");
    // Each viewer of gateway1 loses its socket, waits its own jittered back-off and comes back
    // through the
    // proxy to gateway2, with a fresh history that its live points continue.
    await(
        () -> BEFORE.stream().allMatch(v -> v.connections() == 2 && !v.away()),
        30,
        "every viewer of gateway1 back with a history");
    List<Long> times = new ArrayList<>();
    BEFORE.forEach(v -> times.addAll(v.reconnectMillis));
    System.out.println(
        "reconnect through HAProxy, lost socket to new history, ms: "
            + times.stream().sorted().toList());
    assertEquals(VIEWERS, times.size(), "one reconnect each: " + times);
    assertTrue(
        times.stream().allMatch(ms -> ms < 10_000), "every viewer back within 10 s: " + times);
    long[] liveAtReconnect = BEFORE.stream().mapToLong(v -> v.loss.livePoints()).toArray();
    page.page()
        .waitForFunction(
            "() => window.latentstream.state.lastOutage != null",
            null,
            new Page.WaitForFunctionOptions().setTimeout(15_000));
    @SuppressWarnings("unchecked")
    Map<String, Object> outage =
        (Map<String, Object>) page.page().evaluate("() => window.latentstream.state.lastOutage");
    double pageDown =
        ((Number) outage.get("connectedAt")).doubleValue()
            - ((Number) outage.get("closedAt")).doubleValue();
    System.out.printf(
        "the page back through HAProxy after %.0f ms (waits drawn: %s)%n",
        pageDown, outage.get("waits"));
    assertTrue(pageDown < 10_000, "the page reconnected within 10 s: " + outage);

    page.page()
        .waitForTimeout(
            3000); // live points after the new histories (and the page's events handled)
    for (int i = 0; i < VIEWERS; i++) {
      assertTrue(
          BEFORE.get(i).loss.livePoints() > liveAtReconnect[i], "live points after the reconnect");
    }
    assertEquals(2, PAGE_LOSS.histories(), "the page got a fresh history on its new socket");
    assertTrue(
        AFTER.stream().allMatch(v -> v.connections() == 1),
        "gateway2's own viewers kept their sockets");
    List<String> problems = new ArrayList<>(PAGE_LOSS.problems());
    BEFORE.forEach(v -> problems.addAll(v.loss.problems()));
    AFTER.forEach(v -> problems.addAll(v.loss.problems()));
    assertEquals(List.of(), problems, "history and live points meet with no gap and no repeat");
    Object steps =
        page.page()
            .evaluate(
                "() => { const s = window.latentstream.chart.columns.step;"
                    + " return s.every((x, i) => i === 0 || x > s[i - 1]); }");
    assertEquals(Boolean.TRUE, steps, "the page's chart holds each step once, rising");

    // The page gateway1 served works through gateway2: a decode on the latent plane comes back.
    page.page().waitForFunction("() => window.latentstream.state.plane != null");
    page.page().locator("#latent-overlay").scrollIntoViewIfNeeded();
    var latent = page.page().locator("#latent-overlay").boundingBox();
    page.page().mouse().move(latent.x + latent.width * 0.3, latent.y + latent.height * 0.4);
    page.page().mouse().move(latent.x + latent.width * 0.35, latent.y + latent.height * 0.45);
    page.page()
        .waitForFunction(
            "() => document.getElementById('hover-decode').hasAttribute('data-painted')");
    assertTrue(
        page.errors().stream().allMatch(e -> e.contains("WebSocket")), page.errors().toString());
    assertEquals("DOWN", lb.stats().get("gateway1").get("status"));
  }

  // --- helpers ----------------------------------------------------------------------------------

  static Viewer viewer(String name, int address) throws Exception {
    return new Viewer(name, lbSocket(), InetAddress.getByName("127.0.0." + address), job, address);
  }

  static URI lbSocket() {
    return URI.create("ws://127.0.0.1:" + lb.port + "/ws");
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return ClusterNodes.HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static void await(BooleanSupplier condition, int seconds, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("not within " + seconds + " s: " + what);
      }
      Thread.sleep(100);
    }
  }
}
