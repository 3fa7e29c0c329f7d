package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Browser;
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
  void deletingTheSelectedRunLeavesAnEmptyGoneViewHereAndInAnotherPageAndSelectsNoOtherRun() {
    try (var w = chromium.open(url() + "?token=" + TestServer.TOKEN, 1280, 900);
        var other = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      Page watcher = other.page();
      page.waitForFunction("() => window.latentstream.state.authorized === true");
      for (Page p : List.of(page, watcher)) {
        p.waitForFunction(
            "n => [...document.querySelectorAll('#runs li strong')].some(s => s.textContent === 'custom #' + n)",
            finishedToo);
        p.click("#runs li:has(strong:text-is('custom #" + finishedToo + "'))");
        p.waitForFunction("n => window.latentstream.state.selected === n", finishedToo);
        p.waitForSelector("#panel-recon[data-painted]");
        p.waitForFunction("() => window.latentstream.chart.pointCount() > 0");
      }
      page.onceDialog(d -> d.accept());
      page.click("#delete");
      for (Page p : List.of(page, watcher)) {
        p.waitForFunction(
            "n => ![...document.querySelectorAll('#runs li strong')].some(s => s.textContent === 'custom #' + n)",
            finishedToo);
        p.waitForFunction("() => window.latentstream.state.gone != null");
        // A status of another run arrives: it is listed, not shown in the deleted run's place.
        p.evaluate(
            "n => window.latentstream.receive({ type: 'status', job: window.latentstream.state.jobs.get(n) })",
            finished);
        p.waitForTimeout(300);
        assertEquals(null, p.evaluate("() => window.latentstream.state.selected"));
        assertTrue(
            p.textContent("#job-title").contains("custom #" + finishedToo + ") was deleted"),
            p.textContent("#job-title"));
        assertEquals(
            0, ((Number) p.evaluate("() => window.latentstream.chart.pointCount()")).intValue());
        assertEquals(
            0,
            ((Number)
                    p.evaluate(
                        "() => document.querySelectorAll('.panel canvas[data-painted]').length"))
                .intValue(),
            "no image of the deleted run is left");
        assertEquals(
            0, p.locator("#runs li[aria-selected=true]").count(), "no run marked selected");
        assertTrue(p.isDisabled("#delete") && p.isDisabled("#pause"), "no run to control");
      }
      // Choosing a run leaves the gone state.
      watcher.click("#runs li:has(strong:text-is('custom #" + finished + "'))");
      watcher.waitForFunction("n => window.latentstream.state.selected === n", finished);
      assertEquals(null, watcher.evaluate("() => window.latentstream.state.gone"));
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

  static final String DARK_PIXELS =
      "([id, x0, y0, w, h]) => { const c = document.getElementById(id);"
          + " const d = c.getContext('2d').getImageData(Math.round(x0 * c.width), Math.round(y0 * c.height),"
          + " Math.max(1, Math.round(w * c.width)), Math.max(1, Math.round(h * c.height))).data;"
          + " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 100 && d[i] < 90 && d[i + 1] < 90 && d[i + 2] < 90) n++;"
          + " return n; }";

  @Test
  void diagnosticsHaveNumberedAxesASummaryThatAgreesWithTheWarningsAndGroupedWarnings() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      page.waitForTimeout(1500); // the run's own diagnostics and warnings, if any, have arrived
      page.evaluate(
          "() => { const ls = window.latentstream, job = ls.state.selected;"
              + " ls.receive({ type: 'diagnostics', job, step: 800, epoch: 2, kind: 'kl',"
              + " values: [...Array(12).fill(0.001), ...Array(8).fill(1.5)], activeUnits: 10, topK: 5, topKFraction: 0.6 });"
              + " for (let e = 1; e <= 5; e++) ls.receive({ type: 'warning', job, step: 160 * e, epoch: e,"
              + " code: 'inactive_dimensions', setting: 'freeBits',"
              + " message: '12 of 20 latent dimensions kept their KL under 0.01 nats for the whole epoch' }); }");
      String summary = page.textContent("#diag-summary");
      assertTrue(summary.contains("12 with KL under 0.01 nats"), summary);
      assertTrue(summary.contains("10 of 20 active (variance of the means"), summary);
      assertEquals(
          1,
          page.evaluate(
              "() => document.querySelectorAll('#warnings li[data-code=inactive_dimensions]').length"),
          "five warnings of one kind are one line");
      String grouped = page.textContent("#warnings li[data-code=inactive_dimensions]");
      assertTrue(
          grouped.contains("5 times since step 160") && grouped.startsWith("Step 800"), grouped);
      // Dimension numbers under the bars and values beside them; dimension numbers beside the heat
      // map.
      page.waitForTimeout(500);
      int under =
          ((Number) page.evaluate(DARK_PIXELS, List.of("diag-bars", 0.1, 0.9, 0.9, 0.1)))
              .intValue();
      int beside =
          ((Number) page.evaluate(DARK_PIXELS, List.of("diag-bars", 0, 0, 0.06, 1))).intValue();
      int rows =
          ((Number) page.evaluate(DARK_PIXELS, List.of("diag-heat", 0, 0, 0.06, 0.9))).intValue();
      assertTrue(under > 20 && beside > 20 && rows > 20, under + " " + beside + " " + rows);
    }
  }

  @Test
  void onAPhoneTheRunListAndControlsComeBeforeTheLiveView() {
    try (var w = chromium.open(url(), 390, 844)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      double runs = top(page, "#runs"), pause = top(page, "#pause"), chart = top(page, "#chart");
      double settings = top(page, "#settings-form");
      assertTrue(runs < chart && pause < chart, runs + " " + pause + " " + chart);
      assertTrue(pause < 1500, "Pause is " + pause + " px down");
      assertTrue(settings > chart, "live settings follow the live view");
    }
  }

  static double top(Page page, String selector) {
    return ((Number)
            page.evaluate(
                "s => document.querySelector(s).getBoundingClientRect().top + scrollY", selector))
        .doubleValue();
  }

  @Test
  void pointsOnThePlotsEdgeAreDrawnWhole() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.selected != null");
      // One point at (x, y) of 0..65535 in a 100-pixel plot: how many pixels it colours.
      String disc =
          "async ([x, y]) => { const { drawPoints } = await import('./src/frames.js');"
              + " const buf = new ArrayBuffer(44 + 5); const v = new DataView(buf);"
              + " v.setUint8(0, 1); v.setUint8(1, 3); v.setUint8(2, 2); v.setUint16(20, 100); v.setUint16(22, 100);"
              + " [-1, 1, -1, 1].forEach((r, i) => v.setFloat32(24 + 4 * i, r)); v.setUint32(40, 1);"
              + " v.setUint16(44, x); v.setUint16(46, y); v.setUint8(48, 0);"
              + " const c = document.createElement('canvas'); drawPoints(buf, c);"
              + " const d = c.getContext('2d').getImageData(0, 0, 100, 100).data; let n = 0;"
              + " for (let i = 0; i < d.length; i += 4) if (d[i + 2] > d[i] + 40) n++; return n; }";
      int centre = ((Number) page.evaluate(disc, List.of(32768, 32768))).intValue();
      int corner = ((Number) page.evaluate(disc, List.of(0, 65535))).intValue();
      assertTrue(centre > 5, "a point colours pixels: " + centre);
      assertEquals(centre, corner, 3, "a corner point is a whole disc, not a quarter");
    }
  }

  @Test
  void aQueuedRunShowsNoImagesOfThePreviousRun() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForSelector("#panel-recon[data-painted]");
      page.evaluate(
          "() => window.latentstream.receive({ type: 'status', job: { id: 'queued-9999', num: 9999,"
              + " status: 'queued', name: 'waiting', model: 'dae', dataset: 'synthetic', step: 0, epoch: 0, epochs: 1 } })");
      page.click("#runs li:has(strong:text-is('waiting #9999'))");
      page.waitForFunction("() => window.latentstream.state.selected === 9999");
      assertEquals(
          "(noisy input | reconstruction)",
          page.textContent("#recon-what"),
          "a DAE is shown its noisy input");
      page.waitForTimeout(500);
      for (String kind : List.of("recon", "samples", "manifold")) {
        assertEquals(
            0,
            page.evaluate(
                "k => { const c = document.getElementById('panel-' + k);"
                    + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    + " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }",
                kind),
            kind + " is blank");
        assertFalse(
            (Boolean)
                page.evaluate(
                    "k => 'painted' in document.getElementById('panel-' + k).dataset", kind),
            kind);
      }
    }
  }

  @Test
  void theExplorerMarksOnlyWhereClickedDecodesOnATapAndForgetsItAllForTheNextRun() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      page.waitForSelector("#panel-latent[data-painted]");
      assertTrue(
          ((String)
                  page.evaluate(
                      "() => getComputedStyle(document.getElementById('strip'), '::before').content"))
              .contains("Click two points"),
          "the empty strip says what to do");
      page.locator("#latent-overlay").scrollIntoViewIfNeeded();
      var box = page.locator("#latent-overlay").boundingBox();
      page.mouse().move(box.x + box.width * 0.3, box.y + box.height * 0.3);
      // What a decode and an interpolation leave behind (their replies may wait on a busy machine).
      page.evaluate(
          "() => { document.getElementById('hover-decode').dataset.painted = '1';"
              + " document.getElementById('strip').append(document.createElement('canvas')); }");
      page.mouse().click(box.x + box.width * 0.25, box.y + box.height * 0.25);
      page.waitForTimeout(300);
      assertEquals(
          0,
          ((Number) page.evaluate(DARK_PIXELS, List.of("latent-overlay", 0.45, 0.45, 0.1, 0.1)))
              .intValue(),
          "no keyboard crosshair at the plane's centre after a click");
      assertTrue(
          ((Number) page.evaluate(DARK_PIXELS, List.of("latent-overlay", 0.22, 0.22, 0.06, 0.06)))
                  .intValue()
              > 0,
          "the click marked an interpolation end where it landed");
      page.locator("#pad").scrollIntoViewIfNeeded();
      var pad = page.locator("#pad").boundingBox();
      page.mouse().move(pad.x + 20, pad.y + 20);
      page.mouse().down();
      page.mouse()
          .move(
              pad.x + 100,
              pad.y + 100,
              new com.microsoft.playwright.Mouse.MoveOptions().setSteps(5));
      page.mouse().up();
      int other =
          finished == (Integer) page.evaluate("() => window.latentstream.state.selected")
              ? betaFour
              : finished;
      page.click("#runs li:has(strong:text-is('custom #" + other + "'))");
      page.waitForFunction("n => window.latentstream.state.selected === n", other);
      assertFalse(
          (Boolean)
              page.evaluate(
                  "() => document.getElementById('hover-decode').hasAttribute('data-painted')"));
      assertEquals("", page.textContent("#explorer-status"));
      assertEquals(0, page.evaluate("() => document.getElementById('strip').children.length"));
      assertEquals(
          0.0,
          ((Number)
                  page.evaluate(
                      "() => { const d = document.getElementById('pad').getContext('2d')"
                          + ".getImageData(0, 0, 196, 196).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }"))
              .doubleValue(),
          "the drawing is gone");
    }
    // A finger: a tap decodes, and the plane does not scroll the page.
    Page page =
        chromium
            .browser
            .newContext(
                new Browser.NewContextOptions().setViewportSize(1280, 900).setHasTouch(true))
            .newPage();
    try {
      page.navigate(url());
      page.waitForFunction("() => window.latentstream.state.plane != null");
      page.waitForSelector("#panel-latent[data-painted]");
      assertEquals(
          "none",
          page.evaluate(
              "() => getComputedStyle(document.getElementById('latent-overlay')).touchAction"));
      page.evaluate(
          "() => { const c = window.latentstream.connection, send = c.request.bind(c); window.asked = [];"
              + " c.request = m => { window.asked.push(m.type); return send(m); }; }");
      page.locator("#latent-overlay").scrollIntoViewIfNeeded();
      var box = page.locator("#latent-overlay").boundingBox();
      page.touchscreen().tap(box.x + box.width * 0.4, box.y + box.height * 0.6);
      // Decoded, by the server or in the page.
      page.waitForFunction(
          "() => window.asked.includes('decode') || document.getElementById('hover-decode').hasAttribute('data-painted')");
    } finally {
      page.context().close();
    }
  }

  /**
   * The latent card's blank height: its inner height less the union of the vertical extents of what
   * it shows (text, the plane, the legend, images with a source, controls, the strip and its hint).
   */
  static final String LATENT_BLANK =
      """
      () => {
        const card = document.querySelector('details[data-stream="latent"]');
        const c = card.getBoundingClientRect(), style = getComputedStyle(card);
        const top = c.top + parseFloat(style.paddingTop), bottom = c.bottom - parseFloat(style.paddingBottom);
        const shown = e => {
          if (e.id === 'strip' || e.classList.contains('stack')) return true;
          if (e.closest('.stack') || e.closest('#strip')) return false;
          if (e.tagName === 'IMG') return e.hasAttribute('src');
          if (['INPUT', 'SELECT', 'BUTTON', 'LI'].includes(e.tagName)) return true;
          return [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
        };
        const spans = [...card.querySelectorAll('*')].filter(shown).map(e => e.getBoundingClientRect())
          .filter(r => r.width > 0 && r.height > 0).map(r => [r.top, r.bottom]).sort((a, b) => a[0] - b[0]);
        let end = top;
        const gaps = [];
        for (const [a, b] of spans) { if (a > end) gaps.push(Math.round(a - end)); end = Math.max(end, b); }
        if (bottom > end) gaps.push(Math.round(bottom - end));
        return gaps;
      }
      """;

  @Test
  void theInterpolationStripSitsUnderThePlaneInTheLatentCardWhichHasNoBlankRow() {
    try (var w = chromium.open(url(), 1440, 1000)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      page.waitForSelector("#panel-latent[data-painted]");
      page.waitForFunction("() => document.querySelectorAll('#latent-legend li').length > 0");
      var card = page.locator("details[data-stream='latent']").boundingBox();
      var plane = page.locator("#latent-overlay").boundingBox();
      var strip = page.locator("#strip").boundingBox();
      for (String id : new String[] {"#strip", "#spherical", "#attr-plus", "#attr-apply"}) {
        var b = page.locator(id).boundingBox();
        assertTrue(
            b.y >= card.y && b.y + b.height <= card.y + card.height + 0.5,
            id + " inside the latent card: " + b.y + " in " + card.y + "+" + card.height);
      }
      double below = strip.y - (plane.y + plane.height);
      assertTrue(below >= 0 && below < 120, "the strip " + below + " px under the plane");
      @SuppressWarnings("unchecked")
      List<Number> blank = (List<Number>) page.evaluate(LATENT_BLANK);
      assertTrue(
          blank.stream().allMatch(g -> g.intValue() <= 24)
              && blank.stream().mapToInt(Number::intValue).sum() <= 45,
          "blank rows in the latent card (margins only): " + blank);
      // A decode shows beside the plane; the card grows by no blank row.
      page.evaluate("() => document.getElementById('hover-decode').dataset.painted = '1'");
      assertEquals(
          card.height,
          page.locator("details[data-stream='latent']").boundingBox().height,
          1.0,
          "the hover decode moves nothing: it has its place beside the plane");
    }
  }

  @Test
  void anAttributeResultIsLabelledAndStartsFromTheChosenTestImage() {
    try (var w = chromium.open(url(), 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      page.waitForFunction("() => document.querySelectorAll('#attr-plus option').length > 1");
      page.evaluate(
          "() => { const c = window.latentstream.connection, send = c.request.bind(c); window.asked = [];"
              + " c.request = m => { window.asked.push(m); return send(m); }; }");
      page.fill("#attr-index", "5");
      page.selectOption("#attr-plus", "3");
      page.selectOption("#attr-minus", "1");
      page.click("#attr-apply");
      page.waitForFunction("() => document.querySelectorAll('#strip figure').length === 2");
      assertEquals(
          5,
          ((Number)
                  page.evaluate("() => window.asked.find(m => m.type === 'attribute').from.index"))
              .intValue());
      @SuppressWarnings("unchecked")
      List<String> captions =
          (List<String>)
              page.evaluate(
                  "() => [...document.querySelectorAll('#strip figcaption')].map(f => f.textContent)");
      String label = page.textContent("#explorer-status").replaceAll(":.*", "");
      assertEquals(List.of("test image 5", "+ " + label), captions);
      assertTrue(label.contains("−"), "the label names both classes: " + label);
      page.fill("#attr-index", "-1");
      page.click("#attr-apply");
      page.waitForSelector("#toast:not([hidden])");
      assertTrue(page.textContent("#toast").contains("whole number"));
      assertEquals(
          1,
          ((Number) page.evaluate("() => window.asked.filter(m => m.type === 'attribute').length"))
              .intValue(),
          "a bad index sends nothing");
    }
  }
}
