package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.BoundingBox;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in a real Chromium against a real server training a real (small) model. The run is
 * named after a preset that is not the first alphabetically, so the start form's default can be
 * checked.
 */
@Timeout(180)
class LiveViewTest {

  static final String RUN_PRESET = "vae-mnist";

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static String jobId;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    jobId = server.startRunning(server.spec(400, 4).put("name", RUN_PRESET));
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  /** A test that failed mid-way must not leave the shared run paused for the next one. */
  @AfterEach
  void keepTheRunRunning() throws Exception {
    if ("paused".equals(status())) {
      server.request(HttpMethod.POST, "/api/jobs/" + jobId + "/resume", TestServer.TOKEN, null);
      waitForStatus("running");
    }
  }

  String url(boolean withToken) {
    return "http://127.0.0.1:"
        + server.port()
        + "/"
        + (withToken ? "?token=" + TestServer.TOKEN : "");
  }

  static double number(Page page, String js) {
    return ((Number) page.evaluate(js)).doubleValue();
  }

  /** A fingerprint of a canvas's pixels: 0 for blank. */
  static final String CANVAS_SUM =
      "id => { const c = document.getElementById(id); if (!c.width) return 0;"
          + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0;"
          + " for (let i = 0; i < d.length; i += 7) s = (s * 31 + d[i]) % 1000000007; return s; }";

  static double canvas(Page page, String id) {
    return ((Number) page.evaluate(CANVAS_SUM, id)).doubleValue();
  }

  static void waitForCanvasChange(Page page, String id, double from) {
    page.waitForFunction("([id, from]) => (" + CANVAS_SUM + ")(id) !== from", List.of(id, from));
  }

  @Test
  void thePageLoadsCleanlyTheChartGrowsAndEveryPanelPaintsChangingPixels() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction(
          "() => window.latentstream && window.latentstream.chart.pointCount() > 5");
      double before = number(page, "() => window.latentstream.chart.pointCount()");
      String[] panels = {"panel-recon", "panel-samples", "panel-latent", "panel-manifold"};
      for (String p : panels) {
        page.waitForSelector("#" + p + "[data-painted]");
      }
      double[] first = new double[4];
      for (int i = 0; i < 4; i++) {
        first[i] = canvas(page, panels[i]);
        assertNotEquals(0.0, first[i], panels[i] + " painted");
      }
      page.waitForFunction("n => window.latentstream.chart.pointCount() > n + 20", before);
      for (int i = 0; i < 4; i++) {
        waitForCanvasChange(
            page, panels[i], first[i]); // changes as training goes on, or the wait times out
      }
      assertEquals("live", page.textContent("#connection"));
      assertTrue(
          number(page, "() => window.latentstream.state.pointFrames") > 0,
          "the latent plane arrives as points and the page draws them");
      w.screenshot("live-view");
      assertEquals(List.of(), w.errors(), "console errors");
    }
  }

  @Test
  void theStepSliderScrubsToAKeptFrameAndLiveReturnsToTheHead() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.frameSteps.length >= 3");
      page.waitForSelector("#panel-manifold[data-painted]");
      // The oldest kept frame is well behind the head; training keeps adding frames, so it stays
      // kept.
      int oldest =
          ((Number) page.evaluate("() => window.latentstream.state.frameSteps[0]")).intValue();
      page.waitForFunction(
          "s => Number(document.getElementById('step-slider').max) > s + 8", oldest);
      double live = canvas(page, "panel-manifold");
      page.evaluate(
          "s => { const e = document.getElementById('step-slider'); e.value = s;"
              + " e.dispatchEvent(new Event('input')); }",
          oldest);
      page.waitForFunction(
          "s => document.getElementById('step-label').textContent === 'step ' + s", oldest);
      waitForCanvasChange(page, "panel-manifold", live);
      assertEquals("false", page.getAttribute("#live", "aria-pressed"));
      String note = page.textContent("#note-manifold");
      assertTrue(
          note.isEmpty() || note.startsWith("from step") || note.matches("epoch \\d+ image"), note);
      // The slider's ticks mark the kept steps: the marks canvas has ink.
      assertNotEquals(0.0, canvas(page, "slider-marks"));

      page.click("#live");
      page.waitForFunction(
          "() => document.getElementById('step-label').textContent.startsWith('live')");
      assertEquals("", page.textContent("#note-manifold"));
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void aDrawnDigitGetsAReconstructionAndAMarkerAndHoveringDecodes() throws Exception {
    try (var w = chromium.open(url(false), 1280, 1000)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      page.locator("#pad").scrollIntoViewIfNeeded();
      BoundingBox pad = page.locator("#pad").boundingBox();
      page.mouse().move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
      page.mouse().down();
      for (int i = 0; i <= 10; i++) {
        page.mouse().move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.2 + 0.06 * i));
      }
      page.mouse().up();
      page.waitForFunction(
          "() => (document.getElementById('pad-recon').getAttribute('src') || '').startsWith('data:image/png')");
      page.waitForFunction(
          "() => { const c = document.getElementById('latent-overlay');"
              + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
              + " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; }");

      page.locator("#latent-overlay").scrollIntoViewIfNeeded();
      BoundingBox latent = page.locator("#latent-overlay").boundingBox();
      page.mouse().move(latent.x + latent.width * 0.3, latent.y + latent.height * 0.4);
      page.mouse().move(latent.x + latent.width * 0.35, latent.y + latent.height * 0.45);
      page.waitForFunction(
          "() => document.getElementById('hover-decode').hasAttribute('data-painted')");
      w.screenshot("draw-and-explore");
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void theKeyboardAloneReachesTheExplorerDecodesWithArrowsAndInterpolatesWithEnterTwice()
      throws Exception {
    try (var w = chromium.open(url(false), 1280, 1000)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      int presses = 0;
      while (!"latent-overlay".equals(page.evaluate("() => document.activeElement.id"))) {
        assertTrue(++presses < 80, "Tab never reached the latent explorer");
        page.keyboard().press("Tab");
      }
      // Focus is visible, and the explorer says what it is.
      assertNotEquals(
          "none", page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle"));
      assertTrue(page.getAttribute("#latent-overlay", "aria-label").contains("arrow keys"));

      page.keyboard().press("ArrowRight");
      page.waitForFunction(
          "() => document.getElementById('hover-decode').hasAttribute('data-painted')");
      String first = page.getAttribute("#hover-decode", "data-painted");
      page.keyboard().press("Shift+ArrowUp");
      page.keyboard().press("Shift+ArrowUp");
      // A busy trainer is told and retried (the page says so meanwhile): wait for the decode that
      // lands.
      page.waitForFunction(
          "s => document.getElementById('hover-decode').dataset.painted !== s"
              + " && document.getElementById('hover-z').textContent.startsWith('decoded (')",
          first);
      assertEquals("polite", page.getAttribute("#hover-z", "aria-live"));

      page.keyboard().press("Enter");
      page.waitForFunction(
          "() => document.getElementById('explorer-status').textContent.startsWith('interpolation start marked')");
      page.keyboard().press("Shift+ArrowLeft");
      page.keyboard().press("Shift+ArrowDown");
      page.keyboard().press("Enter");
      page.waitForFunction("() => document.querySelectorAll('#strip canvas').length === 10");
      page.waitForFunction(
          "() => document.getElementById('explorer-status').textContent.startsWith('interpolated 10 images ')");
      assertEquals(
          "latent-overlay",
          page.evaluate("() => document.activeElement.id"),
          "focus stays on the explorer");
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void theTokenDialogSetsTheTokenAndForgetRemovesIt() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      assertFalse(page.isVisible("#token-forget"), "nothing to forget yet");

      page.click("#token-button");
      page.waitForSelector("#token-dialog[open]");
      page.fill("#token-input", "wrong-token-value");
      page.click("#token-save");
      page.waitForSelector("#toast:not([hidden])");
      assertTrue(page.textContent("#toast").contains("Token refused"), page.textContent("#toast"));
      assertNull(page.evaluate("() => sessionStorage.getItem('latentstream-token')"));

      page.click("#token-button");
      page.fill("#token-input", TestServer.TOKEN);
      page.click("#token-save");
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      assertEquals("Token ✓", page.textContent("#token-button"));
      assertEquals(
          TestServer.TOKEN, page.evaluate("() => sessionStorage.getItem('latentstream-token')"));
      assertTrue(page.isVisible("#token-forget"));

      page.click("#token-forget");
      page.waitForFunction(
          "() => window.latentstream.state.authorized === false && document.getElementById('connection').textContent === 'live'");
      assertNull(page.evaluate("() => sessionStorage.getItem('latentstream-token')"));
      assertEquals("Enter token", page.textContent("#token-button"));
      assertFalse(page.isVisible("#token-forget"));

      // Without a token, a control opens the dialog (not a prompt); cancelling changes nothing.
      page.click("#pause");
      page.waitForSelector("#token-dialog[open]");
      page.click("#token-dialog button[value=cancel]");
      page.waitForSelector(
          "#token-dialog:not([open])",
          new Page.WaitForSelectorOptions()
              .setState(com.microsoft.playwright.options.WaitForSelectorState.ATTACHED));
      assertEquals("running", status());
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void pauseAndResumeWorkWithTheTokenFromTheAddress() throws Exception {
    try (var owner = chromium.open(url(true), 1280, 900)) {
      Page page = owner.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      assertFalse(page.url().contains("token="), "the token leaves the address bar: " + page.url());
      page.click("#pause");
      waitForStatus("paused");
      page.click("#resume");
      waitForStatus("running");
      assertEquals(List.of(), owner.errors());
    }
  }

  @Test
  void theStartFormDefaultsToTheSelectedRunsPresetAndShowsTheServersErrorBesideTheSpec()
      throws Exception {
    try (var w = chromium.open(url(true), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      page.waitForFunction("p => document.getElementById('preset').value === p", RUN_PRESET);
      JsonObject shown = new JsonObject(page.inputValue("#spec"));
      assertEquals(
          server.spec(1, 1).getString("dataset"),
          shown.getString("dataset"),
          "the run's own spec is shown");

      page.click("#spec-details summary");
      // As you type: an unknown key is named at once, before anything is sent.
      page.fill("#spec", "{\"model\": \"vae\", \"lrr\": 0.1}");
      page.waitForFunction(
          "() => document.getElementById('spec-error').textContent.includes('unknown key \"lrr\"')");
      assertEquals("true", page.getAttribute("#spec", "aria-invalid"));

      // A value only the server judges: its message, naming the key, appears beside the field.
      JsonObject bad = shown.copy().put("lr", -1);
      page.fill("#spec", bad.encodePrettily());
      page.waitForFunction("() => document.getElementById('spec-error').textContent === ''");
      page.click("#start-form button[type=submit]");
      page.waitForFunction(
          "() => document.getElementById('spec-error').textContent.includes('\"lr\"')");
      String message = page.textContent("#spec-error");
      var spec = page.locator("#spec").boundingBox();
      var error = page.locator("#spec-error").boundingBox();
      assertTrue(
          error.y >= spec.y + spec.height - 1 && error.y - (spec.y + spec.height) < 40,
          "the message sits right under the field");
      int jobs =
          server.request(HttpMethod.GET, "/api/jobs", null, null).body().toJsonArray().size();
      assertEquals(1, jobs, "nothing was started: " + message);
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void aHiddenPageGetsNoImageFramesUntilItIsVisibleAgain() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.framesReceived > 4");
      int subscribes =
          ((Number) page.evaluate("() => window.latentstream.state.subscribes")).intValue();
      page.evaluate(
          """
          () => {
            window.__visibility = 'hidden';
            Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => window.__visibility });
            Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.__visibility === 'hidden' });
            document.dispatchEvent(new Event('visibilitychange'));
          }""");
      page.waitForFunction("n => window.latentstream.state.subscribes > n", subscribes);
      assertEquals(
          List.of("loss", "status"), page.evaluate("() => window.latentstream.state.streams"));
      int frames =
          ((Number) page.evaluate("() => window.latentstream.state.framesReceived")).intValue();
      double points = number(page, "() => window.latentstream.chart.pointCount()");
      // 40 more steps is 10 rounds of four frames: the loss keeps coming, the images do not.
      page.waitForFunction("n => window.latentstream.chart.pointCount() > n + 40", points);
      assertEquals(
          frames,
          ((Number) page.evaluate("() => window.latentstream.state.framesReceived")).intValue());

      page.evaluate(
          "() => { window.__visibility = 'visible'; document.dispatchEvent(new Event('visibilitychange')); }");
      page.waitForFunction("n => window.latentstream.state.framesReceived > n", frames);
      assertTrue(
          ((List<?>) page.evaluate("() => window.latentstream.state.streams")).contains("recon"));
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void onlyTheStreamsOfOpenPanelsAreSubscribed() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.subscribes > 0");
      page.click("details[data-stream=samples] > summary");
      page.waitForFunction("() => !window.latentstream.state.streams.includes('samples')");
      page.waitForFunction("n => window.latentstream.state.subscribes > n", 1);
      assertTrue(
          ((List<?>) page.evaluate("() => window.latentstream.state.streams")).contains("recon"));
      assertEquals(List.of(), w.errors());
    }
  }

  /** The diagnostics panel paints what the server streams for the live run, and shows warnings. */
  @Test
  void diagnosticsMessagesDrawBarsAndAHeatMapAndWarningsAreShown() throws Exception {
    try (var w = chromium.open(url(false), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      // The server's own diagnostics of the live run paint the bars and the heat-map, and keep
      // updating.
      page.waitForFunction(
          "() => document.getElementById('diag-bars').width > 0 && !document.querySelector('.diag-body').hidden",
          null,
          new Page.WaitForFunctionOptions().setTimeout(60_000));
      page.waitForFunction(
          "() => { const c = document.getElementById('diag-heat'); const d = c.getContext('2d')"
              + ".getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }");
      assertFalse(page.isVisible("#diag-empty"));
      String first = page.textContent("#diag-summary");
      assertTrue(first.matches("step \\d+: \\d+ of \\d+ active.*"), first);
      page.waitForFunction(
          "s => document.getElementById('diag-summary').textContent !== s",
          first,
          new Page.WaitForFunctionOptions().setTimeout(60_000));
      // A posterior collapse is rare on the test's run: a warning in the contract's shape shows how
      // one looks.
      page.evaluate(
          """
          () => {
            const ls = window.latentstream, job = ls.state.selected;
            ls.receive({ type: 'warning', job, step: 300, epoch: 3, code: 'posterior_collapse',
              message: 'only 1 of 20 latent dimensions is active; try lowering beta or setting freeBits', setting: 'beta' });
          }""");
      assertTrue(
          page.textContent("#warnings").contains("only 1 of 20 latent dimensions is active"),
          page.textContent("#warnings"));
      assertTrue(page.isVisible("#warnings li[data-code=posterior_collapse]"));
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void onAPhoneThePageFitsTheScreenWidthAndKeepsItsControls() throws Exception {
    try (var w = chromium.open(url(false), 390, 844)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.chart.pointCount() > 5");
      page.waitForSelector("#panel-recon[data-painted]");
      double overflow =
          number(page, "() => document.documentElement.scrollWidth - window.innerWidth");
      assertTrue(overflow <= 0, "no sideways scrolling, overflow " + overflow + " px");
      for (String id : new String[] {"pause", "step-slider", "pad", "panel-latent"}) {
        page.locator("#" + id).scrollIntoViewIfNeeded();
        assertTrue(page.isVisible("#" + id), id + " visible");
      }
      page.evaluate("() => document.activeElement.blur()");
      page.keyboard().press("Tab");
      assertEquals(
          "token-button",
          page.evaluate("() => document.activeElement.id"),
          "Tab starts at the header");
      w.screenshot("phone");
      assertEquals(List.of(), w.errors());
    }
  }

  String status() throws Exception {
    return server
        .request(HttpMethod.GET, "/api/jobs/" + jobId, null, null)
        .json()
        .getString("status");
  }

  void waitForStatus(String s) throws Exception {
    TestServer.awaitStatus(server, jobId, s, 20);
  }
}
