package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open page keeps its run across a server restart by the run's id: the same run under the same
 * number, its curves and its legend's class names back. When that run was deleted meanwhile, the
 * page says so and shows nothing of the run that now has its number.
 */
@Timeout(300)
class RestartKeepsSelectedRunTest {

  static final Page.WaitForFunctionOptions LONG =
      new Page.WaitForFunctionOptions().setTimeout(60_000);

  @SuppressWarnings("unchecked")
  static Map<String, Object> idsToNumbers(Page page) {
    return (Map<String, Object>)
        page.evaluate(
            "() => Object.fromEntries([...window.latentstream.state.jobs.values()].map(j => [j.id, j.num]))");
  }

  static void select(Page page, int num) {
    page.evaluate(
        "n => [...document.querySelectorAll('#runs li')].find(li =>"
            + " li.querySelector('strong').textContent.endsWith('#' + n)).click()",
        num);
    page.waitForFunction("n => window.latentstream.state.selected === n", num);
  }

  /** When the page's current socket opened (ms since the epoch): read before a restart. */
  static Object connectedAt(Page page) {
    return page.evaluate("() => window.latentstream.state.connectedAt");
  }

  /**
   * Waits until the page noticed the outage and is live again on a socket opened after {@code
   * since}. Not on the "disconnected" label: it shows only while the server is down, and a server
   * back within the page's back-off draw (0-3 s) has the page live again before the test looks.
   */
  static void awaitReconnected(Page page, Object since) {
    page.waitForFunction(
        "since => window.latentstream.state.lastOutage?.connectedAt > since"
            + " && document.getElementById('connection').textContent === 'live'",
        since,
        LONG);
  }

  static List<String> legend(Page page) {
    return page.locator("#latent-legend li").allTextContents().stream().map(String::strip).toList();
  }

  @Test
  void theReconnectedPageShowsItsRunByIdAndSaysSoWhenTheRunIsGone(@TempDir Path root)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    JsonObject config = new JsonObject().put("port", port).put("maxConcurrentJobs", 1);
    try (Chromium chromium = new Chromium()) {
      Chromium.Watched w;
      String finished;
      String queued;
      Map<String, Object> before;
      List<String> classes;
      Object wasConnectedAt;
      Object subscribed;
      try (TestServer first = new TestServer(root, config)) {
        finished = first.startJob(first.spec(2, 4)).getString("id");
        TestServer.awaitStatus(first, finished, "completed", 120);
        first.startRunning(first.spec(1000, 4));
        queued = first.startJob(first.spec(1000, 4)).getString("id");
        classes =
            first
                .request(HttpMethod.GET, "/api/jobs/" + finished, null, null)
                .json()
                .getJsonArray("classes")
                .stream()
                .map(String::valueOf)
                .toList();
        assertTrue(classes.size() > 1, classes.toString());
        w = chromium.open("http://127.0.0.1:" + port + "/", 1280, 900);
        Page page = w.page();
        page.waitForFunction("() => window.latentstream.state.jobs.size === 3");
        before = idsToNumbers(page);
        select(page, ((Number) before.get(finished)).intValue());
        page.waitForFunction("() => window.latentstream.chart.pointCount() >= 32");
        assertEquals(classes, legend(page));
        wasConnectedAt = connectedAt(page);
        subscribed = page.evaluate("() => window.latentstream.state.subscribes");
      }
      Page page = w.page();
      int finishedNum = ((Number) before.get(finished)).intValue();

      // Restarted: the same run, by id, under the same number, with its curves and class names.
      try (TestServer second = new TestServer(root, config)) {
        awaitReconnected(page, wasConnectedAt);
        // Subscribed again on the new socket: the new server's welcome is in, so what follows is
        // the page's choice after the restart, not what it still showed from before.
        page.waitForFunction("n => window.latentstream.state.subscribes > n", subscribed, LONG);
        page.waitForFunction("() => window.latentstream.chart.pointCount() >= 32", null, LONG);
        page.waitForFunction("() => document.querySelectorAll('#latent-legend li').length > 1");
        assertEquals(finished, page.evaluate("() => window.latentstream.state.selectedId"));
        assertEquals(finishedNum, page.evaluate("() => window.latentstream.state.selected"));
        assertEquals(before, idsToNumbers(page), "the same ids and numbers");
        assertEquals(classes, legend(page), "the finished run's legend after the restart");
        assertTrue(
            page.textContent("#job-title").contains("completed"), page.textContent("#job-title"));
        select(page, ((Number) before.get(queued)).intValue());
        wasConnectedAt = connectedAt(page);
      }

      // The run the page shows is deleted while the server is down, and a new run takes its number.
      try (Stream<Path> files = Files.walk(root.resolve("runs").resolve(queued))) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
      int queuedNum = ((Number) before.get(queued)).intValue();
      // Two slots, so the new run trains beside the resumed one and has curves and frames to show.
      JsonObject two = config.copy().put("maxConcurrentJobs", 2);
      try (TestServer third = new TestServer(root, two, third(root))) {
        String other =
            third
                .request(HttpMethod.GET, "/api/jobs/" + queuedNum, null, null)
                .json()
                .getString("id");
        assertNotEquals(queued, other, "another run has the deleted run's number");
        awaitReconnected(page, wasConnectedAt);
        page.waitForFunction("() => window.latentstream.state.gone != null", null, LONG);
        String title = page.textContent("#job-title");
        assertTrue(title.contains("(" + queued + ") is gone"), title);
        // Nothing of the other run: not selected, no curve, no frame, no plane, no legend.
        TestServer.awaitStatus(third, other, "running", 60);
        page.waitForFunction(
            "n => window.latentstream.state.jobs.get(n)?.step > 0", queuedNum, LONG);
        assertNull(page.evaluate("() => window.latentstream.state.selected"));
        assertEquals(
            0, ((Number) page.evaluate("() => window.latentstream.chart.pointCount()")).intValue());
        assertEquals(
            0,
            ((Number) page.evaluate("() => window.latentstream.state.frameSteps.length"))
                .intValue());
        assertNull(page.evaluate("() => window.latentstream.state.plane"));
        assertEquals(List.of(), legend(page));
        assertTrue(page.textContent("#job-title").contains("is gone"), "still says so");
        // Choosing a run again shows it.
        select(page, queuedNum);
        page.waitForFunction("() => window.latentstream.chart.pointCount() > 0", null, LONG);
        assertEquals(other, page.evaluate("() => window.latentstream.state.selectedId"));
      }
    }
  }

  /** The job the third server starts as its default job: it takes the first free number. */
  static JsonObject third(Path root) {
    return new JsonObject()
        .put("name", "newcomer")
        .put("model", "vae")
        .put("hidden", new io.vertx.core.json.JsonArray().add(64))
        .put("latent", 2)
        .put("batchSize", 32)
        .put("epochs", 1000)
        .put("frameEverySteps", 4)
        .put("dataset", root.resolve("synthetic").toString());
  }
}
