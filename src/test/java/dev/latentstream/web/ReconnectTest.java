package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page survives a server restart: it shows the outage, reconnects with back-off and gets the runs back;
 * and many pages come back spread over seconds (full jitter), not in one burst.
 */
@Timeout(180)
class ReconnectTest {

  @Test
  void aServerRestartReconnectsAndResumesWithHistory(@TempDir Path root) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JsonObject fixed = new JsonObject().put("port", port);
    String jobId;
    try (Chromium chromium = new Chromium()) {
      Chromium.Watched w;
      try (TestServer first = new TestServer(root, fixed)) {
        jobId = first.startJob(first.spec(2, 4)).getString("id");
        TestServer.awaitStatus(first, jobId, "completed", 60);
        w = chromium.open("http://127.0.0.1:" + port + "/", 1280, 900);
        w.page().waitForFunction("() => window.latentstream.chart.pointCount() >= 32");
      }
      Page page = w.page();
      page.waitForFunction("() => document.getElementById('connection').textContent.startsWith('disconnected')");
      w.screenshot("disconnected");
      try (TestServer second = new TestServer(root, fixed)) {
        page.waitForFunction("() => document.getElementById('connection').textContent === 'live'", null,
            new Page.WaitForFunctionOptions().setTimeout(30_000));
        page.waitForFunction("id => [...document.querySelectorAll('#runs strong')].length > 0");
        page.waitForFunction("() => window.latentstream.chart.pointCount() >= 32");
        assertTrue(page.textContent("#runs").contains("custom"), page.textContent("#runs"));
        assertEquals(1, second.request(io.vertx.core.http.HttpMethod.GET, "/api/jobs", null, null).body().toJsonArray().size());
      }
      // The outage itself logs failed WebSocket connections in the console; nothing else may.
      assertTrue(w.errors().stream().allMatch(e -> e.contains("WebSocket") || e.contains("ERR_CONNECTION_REFUSED")),
          w.errors().toString());
    }
  }

  @Test
  @Timeout(300) // twenty browser pages on a small machine
  void twentyPagesComeBackFromARestartSpreadOverAtLeastTwoSeconds(@TempDir Path root) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JsonObject config = new JsonObject().put("port", port).put("maxConnectionsPerIp", 64);
    List<Chromium.Watched> pages = new ArrayList<>();
    try (Chromium chromium = new Chromium()) {
      try (TestServer first = new TestServer(root, config)) {
        for (int i = 0; i < 20; i++) {
          pages.add(chromium.open("http://127.0.0.1:" + port + "/", 640, 480));
        }
        for (var w : pages) {
          w.page().waitForFunction("() => document.getElementById('connection').textContent === 'live'");
        }
      }
      for (var w : pages) {
        w.page().waitForFunction("() => document.getElementById('connection').textContent.startsWith('disconnected')");
      }
      // Every page is down: any connection after this instant is a reconnect.
      long restartedAt = System.currentTimeMillis();
      try (TestServer second = new TestServer(root, config)) {
        List<Long> connected = new ArrayList<>();
        for (var w : pages) {
          w.page().waitForFunction("t => window.latentstream.state.connectedAt >= t", (double) restartedAt,
              new Page.WaitForFunctionOptions().setTimeout(60_000));
          connected.add(((Number) w.page().evaluate("() => window.latentstream.state.connectedAt")).longValue());
        }
        long spread = Collections.max(connected) - Collections.min(connected);
        System.out.printf("20 pages reconnected between %d and %d ms after the restart began (spread %d ms)%n",
            Collections.min(connected) - restartedAt, Collections.max(connected) - restartedAt, spread);
        assertTrue(spread >= 2000, "reconnects spread over " + spread + " ms: " + connected);
      }
    }
  }
}
