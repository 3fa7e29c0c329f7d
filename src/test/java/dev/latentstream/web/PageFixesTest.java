package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What a new user found wrong with the page (issue 18 §5), each checked on the real server. */
@Timeout(240)
class PageFixesTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static int finished;
  static int finishedToo;
  static int betaFour;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    JsonObject a = server.startJob(server.spec(1, 4));
    JsonObject b = server.startJob(server.spec(1, 4));
    finished = a.getInteger("num");
    finishedToo = b.getInteger("num");
    JsonObject c = server.startJob(server.spec(1, 4).put("beta", 4));
    betaFour = c.getInteger("num");
    TestServer.awaitStatus(server, a.getString("id"), "completed", 150);
    TestServer.awaitStatus(server, b.getString("id"), "completed", 150);
    TestServer.awaitStatus(server, c.getString("id"), "completed", 150);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  String url() {
    return "http://127.0.0.1:" + server.port() + "/";
  }

  @Test
  void enterInTheTokenDialogSavesTheToken() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      page.click("#token-button");
      page.waitForSelector("#token-dialog[open]");
      page.fill("#token-input", TestServer.TOKEN);
      page.press("#token-input", "Enter");
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      assertEquals(
          TestServer.TOKEN, page.evaluate("() => sessionStorage.getItem('latentstream-token')"));
    }
  }

  @Test
  void aControlWhileDisconnectedKeepsTheTokenAndSaysItIsNotConnected() {
    // Reconnect waits drawn at the top of their range: the click lands while the socket is down.
    try (var w =
        chromium.open(
            url() + "?token=" + TestServer.TOKEN, 1280, 900, "Math.random = () => 0.99;")) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      page.evaluate("() => window.latentstream.connection.ws.close()");
      page.waitForFunction("() => !window.latentstream.connection.open");
      page.click("#resume");
      page.waitForSelector("#toast:not([hidden])");
      String toast = page.textContent("#toast");
      assertFalse(toast.contains("Token refused"), toast);
      assertTrue(toast.contains("not connected"), toast);
      assertEquals(
          TestServer.TOKEN,
          page.evaluate("() => sessionStorage.getItem('latentstream-token')"),
          "a token that was never refused is kept");
    }
  }

  @Test
  void newsToastsAreNotRedLikeErrors() {
    try (var w = chromium.open(url() + "?token=" + TestServer.TOKEN, 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      page.click("#token-forget");
      page.waitForSelector("#toast:not([hidden])");
      assertEquals("Token forgotten in this tab.", page.textContent("#toast"));
      String news =
          (String)
              page.evaluate(
                  "() => getComputedStyle(document.getElementById('toast')).backgroundColor");
      page.evaluate("() => window.latentstream.receive({ type: 'error', message: 'boom' })");
      page.waitForFunction("() => document.getElementById('toast').textContent === 'Server: boom'");
      String error =
          (String)
              page.evaluate(
                  "() => getComputedStyle(document.getElementById('toast')).backgroundColor");
      assertFalse(news.equals(error), news + " vs " + error);
      assertEquals("rgb(192, 57, 43)", error);
    }
  }

  @Test
  void theRunListTellsTwoRunsOfOneNameApartAndControlsFollowTheRunsState() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => document.querySelectorAll('#runs li').length >= 2");
      @SuppressWarnings("unchecked")
      List<String> names =
          (List<String>)
              page.evaluate(
                  "() => [...document.querySelectorAll('#runs li strong')].map(s => s.textContent)");
      assertEquals(
          names.size(),
          names.stream().distinct().count(),
          "names in the list are told apart: " + names);
      assertTrue(names.contains("custom #" + finished), names.toString());
      page.click("#runs li:has(strong:text-is('custom #" + finished + "'))");
      page.waitForFunction("n => window.latentstream.state.selected === n", finished);
      // A completed run can be resumed (from its checkpoint) or deleted, not paused or stopped.
      assertTrue(page.isDisabled("#pause"));
      assertTrue(page.isDisabled("#stop"));
      assertFalse(page.isDisabled("#resume"));
      assertFalse(page.isDisabled("#delete"));
    }
  }

  @Test
  void deletingTheSelectedRunClearsItsViewAndRemovesItFromTheList() {
    try (var w = chromium.open(url() + "?token=" + TestServer.TOKEN, 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      page.click("#runs li:has(strong:text-is('custom #" + finishedToo + "'))");
      page.waitForFunction("n => window.latentstream.state.selected === n", finishedToo);
      page.waitForSelector("#panel-recon[data-painted]");
      page.onceDialog(d -> d.accept());
      page.click("#delete");
      page.waitForFunction(
          "n => ![...document.querySelectorAll('#runs li strong')].some(s => s.textContent === 'custom #' + n)",
          finishedToo);
      page.waitForFunction("n => window.latentstream.state.selected !== n", finishedToo);
      // Another run takes its place: its own title, not the deleted run's leftovers.
      page.waitForFunction("() => window.latentstream.state.selected != null");
      assertTrue(
          !page.textContent("#job-title").contains("#" + finishedToo),
          page.textContent("#job-title"));
    }
  }

  @Test
  void liveSettingsShowTheRunsOwnValuesAndOnlyItsModelsSettings() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction(
          "n => [...document.querySelectorAll('#runs li strong')].some(s => s.textContent === 'custom #' + n)",
          betaFour);
      page.click("#runs li:has(strong:text-is('custom #" + betaFour + "'))");
      page.waitForFunction("n => window.latentstream.state.selected === n", betaFour);
      assertEquals("4", page.inputValue("#set-beta"), "a β = 4 run shows β 4");
      assertFalse(
          page.inputValue("#set-lr").isEmpty(), "the learning rate is the run's, not a hint");
      assertTrue(page.isVisible("#set-freeBits"), "the warnings' freeBits can be set here");
      assertTrue(page.isVisible("#set-klWarmupSteps"));
      assertFalse(page.isVisible("#set-noise"), "a VAE has no noise setting to re-send");
      page.click("#runs li:has(strong:text-is('custom #" + finished + "'))");
      page.waitForFunction("() => document.getElementById('set-beta').value === '1'");
    }
  }

  @Test
  void theLossChartHasReadableLogTicksHoverValuesATestLossLegendStableColoursAndSeparateMarkers() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.chart.pointCount() > 0");
      assertEquals(
          List.of(20, 50, 100, 200),
          page.evaluate("async () => (await import('./src/chart.js')).logTicks(12, 206)"));
      @SuppressWarnings("unchecked")
      List<String> narrow =
          (List<String>)
              page.evaluate(
                  "async () => { const m = await import('./src/chart.js'); return m.logTicks(100, 180).map(m.tickLabel); }");
      assertTrue(narrow.size() >= 3, "a range under a decade gets several labels: " + narrow);
      assertTrue(narrow.stream().allMatch(l -> l.matches("\\d{1,3}")), narrow.toString());
      assertEquals(
          List.of(0, 1, 0),
          page.evaluate(
              "async () => (await import('./src/chart.js')).settingRows([100, 102, 400])"),
          "two markers at one step, two lines");

      // Hovering shows each term's value; the test-loss dots are in the legend.
      var box = page.locator("#chart .u-over").boundingBox();
      page.mouse().move(box.x + box.width * 0.6, box.y + box.height / 2);
      page.waitForFunction(
          "() => [...document.querySelectorAll('#chart .u-legend .u-series .u-value')]"
              + ".some(v => /\\d/.test(v.textContent))");
      assertTrue(page.textContent("#chart .u-legend").contains("test loss (per epoch)"));

      // The same term has the same colour for a VAE and an AE.
      String swatch =
          "() => [...document.querySelectorAll('#terms label')].find(l => l.textContent === 'loss')"
              + ".querySelector('.swatch').style.background";
      String vae = (String) page.evaluate(swatch);
      page.evaluate(
          "() => { const c = window.latentstream.chart; c.reset(null);"
              + " c.reset({ columns: { step: [1, 2], epoch: [1, 1], recon: [5, 4], loss: [5, 4] }, test: { step: [], loss: [] }, settings: [] }); }");
      page.waitForFunction(
          "() => [...document.querySelectorAll('#terms label')].map(l => l.textContent).join() === 'recon,loss'");
      assertEquals(vae, page.evaluate(swatch));
    }
  }
}
