package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.BoundingBox;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The live page in a real Chromium against a real server training a real (small) model. */
@Timeout(180)
class LiveViewTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static String jobId;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    jobId = server.startJob(server.spec(400, 4)).getString("id");
    TestServer.awaitStatus(server, jobId, "running", 60);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  String url(boolean withToken) {
    return "http://127.0.0.1:" + server.port() + "/" + (withToken ? "?token=" + TestServer.TOKEN : "");
  }

  static double number(Page page, String js) {
    return ((Number) page.evaluate(js)).doubleValue();
  }

  /** A fingerprint of a canvas's pixels: 0 for blank. */
  static final String CANVAS_SUM = "id => { const c = document.getElementById(id); if (!c.width) return 0;"
      + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0;"
      + " for (let i = 0; i < d.length; i += 7) s = (s * 31 + d[i]) % 1000000007; return s; }";

  static double canvas(Page page, String id) {
    return ((Number) page.evaluate(CANVAS_SUM, id)).doubleValue();
  }

  @Test
  void thePageLoadsCleanlyTheChartGrowsAndEveryPanelPaintsChangingPixels() throws Exception {
    var w = chromium.open(url(false), 1280, 900);
    Page page = w.page();
    page.waitForFunction("() => window.latentstream && window.latentstream.chart.pointCount() > 5");
    double before = number(page, "() => window.latentstream.chart.pointCount()");
    String[] panels = {"panel-recon", "panel-samples", "panel-latent", "panel-manifold"};
    for (String p : panels) {
      page.waitForFunction("id => document.getElementById(id).width > 0", p);
    }
    double[] first = new double[4];
    for (int i = 0; i < 4; i++) {
      first[i] = canvas(page, panels[i]);
      assertNotEquals(0.0, first[i], panels[i] + " painted");
    }
    page.waitForFunction("n => window.latentstream.chart.pointCount() > n + 20", before);
    page.waitForTimeout(1500);
    for (int i = 0; i < 4; i++) {
      assertNotEquals(first[i], canvas(page, panels[i]), panels[i] + " changed as training went on");
    }
    assertEquals("live", page.textContent("#connection"));
    w.screenshot("live-view");
    assertEquals(java.util.List.of(), w.errors(), "console errors");
  }

  @Test
  void theStepSliderScrubsHistoryAndLiveReturnsToTheHead() throws Exception {
    var w = chromium.open(url(false), 1280, 900);
    Page page = w.page();
    page.waitForFunction("() => Number(document.getElementById('step-slider').max) >= 3");
    page.waitForFunction("() => document.getElementById('panel-manifold').width > 0");
    double live = canvas(page, "panel-manifold");
    page.evaluate("() => { const s = document.getElementById('step-slider'); s.value = 0;"
        + " s.dispatchEvent(new Event('input')); }");
    page.waitForFunction("() => !document.getElementById('step-label').textContent.startsWith('live')");
    page.waitForTimeout(800);
    assertNotEquals(live, canvas(page, "panel-manifold"), "an old frame is shown");
    assertEquals("false", page.getAttribute("#live", "aria-pressed"));
    page.click("#live");
    page.waitForFunction("() => document.getElementById('step-label').textContent.startsWith('live')");
    assertEquals(java.util.List.of(), w.errors());
  }

  @Test
  void aDrawnDigitGetsAReconstructionAndAMarkerAndHoveringDecodes() throws Exception {
    var w = chromium.open(url(false), 1280, 1000);
    Page page = w.page();
    page.waitForFunction("() => window.latentstream.state.plane != null");
    BoundingBox pad = page.locator("#pad").boundingBox();
    page.mouse().move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
    page.mouse().down();
    for (int i = 0; i <= 10; i++) {
      page.mouse().move(pad.x + pad.width * 0.5, pad.y + pad.height * (0.2 + 0.06 * i));
    }
    page.mouse().up();
    page.waitForFunction("() => (document.getElementById('pad-recon').getAttribute('src') || '').startsWith('data:image/png')");
    page.waitForFunction("() => { const c = document.getElementById('latent-overlay');"
        + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        + " for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; }");

    page.locator("#latent-overlay").scrollIntoViewIfNeeded();
    BoundingBox latent = page.locator("#latent-overlay").boundingBox();
    page.mouse().move(latent.x + latent.height * 0.3, latent.y + latent.height * 0.4);
    page.mouse().move(latent.x + latent.height * 0.35, latent.y + latent.height * 0.45);
    page.waitForFunction("() => (document.getElementById('hover-decode').getAttribute('src') || '').startsWith('data:image/png')");
    w.screenshot("draw-and-explore");
    assertEquals(java.util.List.of(), w.errors());
  }

  @Test
  void pauseAndResumeWorkWithTheTokenAndAreRefusedWithoutIt() throws Exception {
    var anonymous = chromium.open(url(false), 1280, 900);
    Page page = anonymous.page();
    page.waitForFunction("() => window.latentstream.state.selected != null");
    java.util.concurrent.atomic.AtomicReference<String> answer = new java.util.concurrent.atomic.AtomicReference<>();
    page.onDialog(d -> {
      if (answer.get() == null) {
        d.dismiss();
      } else {
        d.accept(answer.get());
      }
    });
    page.click("#pause");
    page.waitForTimeout(500);
    assertEquals("running", status());

    answer.set("wrong-token-value");
    page.click("#token-button");
    page.waitForSelector("#toast:not([hidden])");
    assertTrue(page.textContent("#toast").contains("Token refused"), page.textContent("#toast"));
    assertEquals("running", status());

    var owner = chromium.open(url(true), 1280, 900);
    Page p2 = owner.page();
    p2.waitForFunction("() => window.latentstream.state.authorized === true");
    p2.click("#pause");
    waitForStatus("paused");
    p2.click("#resume");
    waitForStatus("running");
    assertEquals(java.util.List.of(), owner.errors());
  }

  @Test
  void onAPhoneThePageFitsTheScreenWidthAndKeepsItsControls() throws Exception {
    var w = chromium.open(url(false), 390, 844);
    Page page = w.page();
    page.waitForFunction("() => window.latentstream.chart.pointCount() > 5");
    page.waitForFunction("() => document.getElementById('panel-recon').width > 0");
    double overflow = number(page, "() => document.documentElement.scrollWidth - window.innerWidth");
    assertTrue(overflow <= 1, "no sideways scrolling, overflow " + overflow + " px");
    for (String id : new String[] {"pause", "step-slider", "pad", "panel-latent"}) {
      assertTrue(page.isVisible("#" + id), id + " visible");
    }
    page.keyboard().press("Tab");
    assertTrue(((String) page.evaluate("() => document.activeElement.tagName")).length() > 0);
    w.screenshot("phone");
    assertEquals(java.util.List.of(), w.errors());
  }

  String status() throws Exception {
    return server.request(HttpMethod.GET, "/api/jobs/" + jobId, null, null).json().getString("status");
  }

  void waitForStatus(String s) throws Exception {
    TestServer.awaitStatus(server, jobId, s, 20);
  }
}
