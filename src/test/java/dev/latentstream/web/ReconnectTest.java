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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page survives a server restart: it shows the outage, reconnects with back-off and gets the
 * runs back; and many pages come back spread over seconds (full jitter), not in one burst.
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
      page.waitForFunction(
          "() => document.getElementById('connection').textContent.startsWith('disconnected')");
      w.screenshot("disconnected");
      try (TestServer second = new TestServer(root, fixed)) {
        page.waitForFunction(
            "() => document.getElementById('connection').textContent === 'live'",
            null,
            new Page.WaitForFunctionOptions().setTimeout(30_000));
        page.waitForFunction("id => [...document.querySelectorAll('#runs strong')].length > 0");
        page.waitForFunction("() => window.latentstream.chart.pointCount() >= 32");
        assertTrue(page.textContent("#runs").contains("custom"), page.textContent("#runs"));
        // The run card names the engine that trained it, remembered across the restart.
        assertTrue(
            page.textContent("#runs").contains(" · native · epoch"), page.textContent("#runs"));
        assertEquals(
            1,
            second
                .request(io.vertx.core.http.HttpMethod.GET, "/api/jobs", null, null)
                .body()
                .toJsonArray()
                .size());
      }
      // The outage itself logs failed WebSocket connections in the console; nothing else may.
      assertTrue(
          w.errors().stream()
              .allMatch(e -> e.contains("WebSocket") || e.contains("ERR_CONNECTION_REFUSED")),
          w.errors().toString());
    }
  }

  @Test
  @Timeout(300) // twenty browser pages on a small machine
  void twentyPagesWaitTheirOwnJitteredBackOffAfterARestartSpreadOverAtLeastTwoSeconds(
      @TempDir Path root) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JsonObject config = new JsonObject().put("port", port).put("maxConnectionsPerIp", 64);
    List<Chromium.Watched> pages = new ArrayList<>();
    try (Chromium chromium = new Chromium()) {
      try (TestServer first = new TestServer(root, config)) {
        for (int i = 0; i < 20; i++) {
          // Each tab its own seeded random stream (mulberry32), so the draws are the same in every
          // run while
          // the page's own back-off code does the drawing.
          pages.add(
              chromium.open(
                  "http://127.0.0.1:" + port + "/",
                  640,
                  480,
                  """
              { let a = %d; Math.random = () => { a = (a + 0x6D2B79F5) | 0; let t = Math.imul(a ^ (a >>> 15), 1 | a);
                t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
              """
                      .formatted(1000 + 7919 * i)));
        }
        for (var w : pages) {
          w.page()
              .waitForFunction(
                  "() => document.getElementById('connection').textContent === 'live'");
        }
      }
      for (var w : pages) {
        w.page()
            .waitForFunction(
                "() => document.getElementById('connection').textContent.startsWith('disconnected')");
      }
      try (TestServer second = new TestServer(root, config)) {
        List<Double> firstWaits = new ArrayList<>();
        for (var w : pages) {
          w.page()
              .waitForFunction(
                  "() => window.latentstream.state.lastOutage != null",
                  null,
                  new Page.WaitForFunctionOptions().setTimeout(60_000));
          @SuppressWarnings("unchecked")
          Map<String, Object> outage =
              (Map<String, Object>) w.page().evaluate("() => window.latentstream.state.lastOutage");
          List<?> waits = (List<?>) outage.get("waits");
          double waited = waits.stream().mapToDouble(x -> ((Number) x).doubleValue()).sum();
          double down =
              ((Number) outage.get("connectedAt")).doubleValue()
                  - ((Number) outage.get("closedAt")).doubleValue();
          // The page came back only after every wait it drew: it never reconnects early.
          assertTrue(down >= waited, "down " + down + " ms, but drew waits " + waits);
          firstWaits.add(((Number) waits.get(0)).doubleValue());
        }
        double spread = Collections.max(firstWaits) - Collections.min(firstWaits);
        System.out.printf(
            "20 pages' first reconnect waits spread over %.0f ms: %s%n", spread, firstWaits);
        // Full jitter from 0-3 s: twenty tabs do not come back in one burst.
        assertTrue(spread >= 2000, "first waits spread over " + spread + " ms: " + firstWaits);
        assertTrue(
            Collections.max(firstWaits) < 3000,
            "the first wait is drawn from 0-3 s: " + firstWaits);
      }
    }
  }
}
