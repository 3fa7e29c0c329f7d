package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page notices a link that died without closing (a {@link BlackHoleProxy} between it and the
 * server): a silent socket gets a ping, and no answer within the deadline drops it, says so and
 * reconnects to the same run. A training stream keeps the socket busy, so a watching page sends no
 * ping at all.
 */
@Timeout(180)
class DeadLinkTest {

  // Quiet longer than any pause of a tiny training run on a loaded machine, so a ping while it
  // streams
  // is the page's fault.
  static final int QUIET_MS = 2500;
  static final int DEADLINE_MS = 1500;

  /**
   * Shortens the page's liveness intervals and counts the pings it sends ({@code window.pings}).
   */
  static final String SHORT_LIVENESS_COUNTING_PINGS =
      ("window.latentstreamLiveness = { quietMs: %d, deadlineMs: %d }; window.pings = 0;"
              + " const send = WebSocket.prototype.send;"
              + " WebSocket.prototype.send = function (m) {"
              + " if (typeof m === 'string' && JSON.parse(m).type === 'ping') window.pings++;"
              + " return send.call(this, m); };")
          .formatted(QUIET_MS, DEADLINE_MS);

  static final Page.WaitForFunctionOptions LONG =
      new Page.WaitForFunctionOptions().setTimeout(60_000);

  static int pings(Page page) {
    return ((Number) page.evaluate("() => window.pings")).intValue();
  }

  static int points(Page page) {
    return ((Number) page.evaluate("() => window.latentstream.chart.pointCount()")).intValue();
  }

  @Test
  void aBlackHoledLinkIsDroppedAfterTheDeadlineAndThePageComesBackToItsRun(@TempDir Path root)
      throws Exception {
    try (TestServer server = new TestServer(root, new JsonObject());
        BlackHoleProxy proxy = new BlackHoleProxy(server.port());
        Chromium chromium = new Chromium()) {
      String id = server.startRunning(server.spec(1000, 4));
      Chromium.Watched w =
          chromium.open(
              "http://127.0.0.1:" + proxy.port() + "/", 1280, 900, SHORT_LIVENESS_COUNTING_PINGS);
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.jobs.size === 1", null, LONG);
      RestartKeepsSelectedRunTest.select(page, 1);
      page.waitForFunction("() => window.latentstream.chart.pointCount() >= 8", null, LONG);

      // Busy: the stream talks all the time, so over twice quiet + deadline the page sends no ping
      // and keeps its socket.
      Object connectedAt = page.evaluate("() => window.latentstream.state.connectedAt");
      int before = points(page);
      Thread.sleep(2 * (QUIET_MS + DEADLINE_MS));
      assertEquals(0, pings(page), "pings sent while the run streamed");
      assertTrue(points(page) > before, "the run streamed meanwhile");
      assertEquals(connectedAt, page.evaluate("() => window.latentstream.state.connectedAt"));
      assertEquals("live", page.textContent("#connection"));

      // Black hole: nothing closes, yet within quiet + deadline the page pings, hears nothing and
      // says so.
      proxy.blackHole();
      long cut = System.nanoTime();
      page.waitForFunction(
          "() => document.getElementById('connection').textContent"
              + ".startsWith('disconnected: no answer from the server for ')",
          null,
          new Page.WaitForFunctionOptions().setTimeout(QUIET_MS + DEADLINE_MS + 5_000));
      long noticedMs = (System.nanoTime() - cut) / 1_000_000;
      w.screenshot("dead-link");
      assertTrue(pings(page) >= 1, "it asked before giving up");
      assertTrue(noticedMs >= DEADLINE_MS, "gave up " + noticedMs + " ms after the cut");

      // Forwarding again: the page reconnects with its back-off, records the outage and streams its
      // run again.
      int subscribes =
          ((Number) page.evaluate("() => window.latentstream.state.subscribes")).intValue();
      proxy.forward();
      page.waitForFunction(
          "since => window.latentstream.state.lastOutage?.connectedAt > since"
              + " && document.getElementById('connection').textContent === 'live'",
          connectedAt,
          LONG);
      page.waitForFunction("n => window.latentstream.state.subscribes > n", subscribes, LONG);
      assertEquals(id, page.evaluate("() => window.latentstream.state.selectedId"));
      int back = points(page);
      page.waitForFunction("n => window.latentstream.chart.pointCount() > n + 4", back, LONG);

      // Quiet but alive: with the run stopped nothing streams, the page pings and the pong keeps
      // the
      // socket.
      Object reconnectedAt = page.evaluate("() => window.latentstream.state.connectedAt");
      server.stopJob(id);
      int pinged = pings(page);
      page.waitForFunction("n => window.pings > n + 1", pinged, LONG);
      assertEquals(reconnectedAt, page.evaluate("() => window.latentstream.state.connectedAt"));
      assertEquals("live", page.textContent("#connection"));
    }
  }
}
