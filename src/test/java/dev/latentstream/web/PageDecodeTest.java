package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * Decoding in the page: with the token (the weights' download needs it), a 20-d MLP VAE's hovers
 * are decoded in the page's worker (no {@code decode} message leaves the page), and its images
 * equal the server's decode of the same plane point within one grey level.
 */
@Timeout(240)
class PageDecodeTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;

  /**
   * Counts the requests the page sends on its sockets by type ({@code window.sent}), keeps the
   * attribute requests ({@code window.attributes}), and defines {@code window.greyDiff(a, b)}: the
   * largest grey-level difference between a page's image and the server's PNG of the same decode
   * (the server's is the 28x28 image inside a grid's gap, so it searches where it sits).
   */
  static final String COUNT_REQUESTS =
      "window.sent = {}; window.attributes = []; const send = WebSocket.prototype.send;"
          + " WebSocket.prototype.send = function (m) {"
          + " if (typeof m === 'string') { const j = JSON.parse(m);"
          + "   window.sent[j.type] = (window.sent[j.type] ?? 0) + 1;"
          + "   if (j.type === 'attribute') window.attributes.push(j); }"
          + " return send.call(this, m); };"
          + " const pixels = async src => { const img = new Image(); img.src = src; await img.decode();"
          + "   const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;"
          + "   const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
          + "   return { w: c.width, h: c.height, d: g.getImageData(0, 0, c.width, c.height).data }; };"
          + " window.greyDiff = async (mine, theirs) => {"
          + "   const a = await pixels(mine), b = await pixels('data:image/png;base64,' + theirs);"
          + "   let best = 256;"
          + "   for (let oy = 0; oy + a.h <= b.h; oy++) for (let ox = 0; ox + a.w <= b.w; ox++) { let m = 0;"
          + "     for (let y = 0; y < a.h; y++) for (let x = 0; x < a.w; x++)"
          + "       m = Math.max(m, Math.abs(a.d[4 * (y * a.w + x)] - b.d[4 * ((y + oy) * b.w + x + ox)]));"
          + "     best = Math.min(best, m); }"
          + "   return best; };";

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    String id = server.startJob(server.spec(1, 4).put("latent", 20)).getString("id");
    TestServer.awaitStatus(server, id, "completed", 180);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  @Test
  void hoversOfAnMlpVaeAreDecodedInThePageAndMatchTheServersDecode() throws Exception {
    try (var w =
        chromium.open(
            "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN,
            1280,
            1000,
            COUNT_REQUESTS)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      long decodesBefore = server.modelRequests("decode");
      // 200 pointer moves across the plane, each waiting for its decode to land.
      page.evaluate(
          "async () => { const o = document.getElementById('latent-overlay');"
              + " const r = o.getBoundingClientRect();"
              + " for (let i = 0; i < 200; i++) {"
              + "   const before = document.getElementById('hover-z').textContent;"
              + "   o.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * (0.1 + 0.8 * (i % 20) / 19),"
              + "     clientY: r.top + r.height * (0.1 + 0.8 * Math.floor(i / 20) / 9), bubbles: true }));"
              + "   for (let k = 0; k < 400 && document.getElementById('hover-z').textContent === before; k++)"
              + "     await new Promise(d => setTimeout(d, 5)); } }");
      String caption = page.textContent("#hover-z");
      assertTrue(caption.contains("in your browser, weights from step"), caption);
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"), "the server counted decodes");

      // The same plane points decoded by the server: the page's pixels equal them within 1/255.
      Object worst =
          page.evaluate(
              "async () => { const ls = window.latentstream; const [x0, x1, y0, y1] = ls.state.plane;"
                  + " const job = ls.state.selected; let worst = 0;"
                  + " for (const p of [[x0 * 0.8, y1 * 0.8], [0, 0], [x1 * 0.5, y0 * 0.3]]) {"
                  + "   const mine = await ls.decodeLocally(p);"
                  + "   const r = await ls.connection.request({ type: 'decode', job, plane: p });"
                  + "   worst = Math.max(worst, await greyDiff(mine, r.result.images[0])); }"
                  + " return worst; }");
      int maxDiff = ((Number) worst).intValue();
      assertTrue(maxDiff <= 1, "largest grey-level difference " + maxDiff);
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void interpolationAndAttributeStripsAreDecodedInThePageAndMatchTheServers() throws Exception {
    try (var w =
        chromium.open(
            "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN,
            1280,
            1000,
            COUNT_REQUESTS)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.state.plane != null");
      long decodesBefore = server.modelRequests("decode");
      long interpolationsBefore = server.modelRequests("interpolate");
      long attributesBefore = server.modelRequests("attribute");
      for (boolean spherical : new boolean[] {false, true}) {
        page.setChecked("#spherical", spherical);
        // Two marks, as two clicks on the plane make them; the strip lands in #strip.
        Object worst =
            page.evaluate(
                "async () => { const ls = window.latentstream; const [x0, x1, y0, y1] = ls.state.plane;"
                    + " const a = [x0 * 0.7, y0 * 0.6], b = [x1 * 0.6, y1 * 0.8];"
                    + " await ls.explorer.markEnd(a); await ls.explorer.markEnd(b);"
                    + " const mine = [...document.querySelectorAll('#strip img')].map(i => i.src);"
                    + " const r = await ls.connection.request({ type: 'interpolate', job: ls.state.selected,"
                    + "   from: { plane: a }, to: { plane: b }, steps: mine.length,"
                    + "   mode: document.getElementById('spherical').checked ? 'spherical' : 'linear' });"
                    + " let worst = 0;"
                    + " for (let i = 0; i < mine.length; i++) worst = Math.max(worst, await greyDiff(mine[i], r.result.images[i]));"
                    + " return mine.length === 10 ? worst : 'strip of ' + mine.length; }");
        assertEquals(
            "interpolated 10 images in your browser",
            page.textContent("#explorer-status").replaceAll(", weights from step.*", ""));
        assertTrue(
            worst instanceof Number n && n.intValue() <= 1,
            (spherical ? "spherical" : "linear") + ": largest grey-level difference " + worst);
      }
      // The test sent its own reference requests: the page itself sent none, says the server too.
      assertEquals(2, sent(page, "interpolate"));
      assertEquals(interpolationsBefore + 2, server.modelRequests("interpolate"));
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"));

      page.click("#attr-apply");
      page.waitForFunction(
          "() => document.getElementById('explorer-status').textContent.includes('decoded')");
      assertTrue(
          page.textContent("#explorer-status").contains("decoded in your browser"),
          page.textContent("#explorer-status"));
      assertEquals(
          false,
          page.evaluate("() => window.attributes[0].images"),
          "the page asks only for the codes");
      Object worst =
          page.evaluate(
              "async () => { const ls = window.latentstream; const mine = [...document.querySelectorAll('#strip img')].map(i => i.src);"
                  + " const { images, ...asked } = window.attributes[0];"
                  + " const r = await ls.connection.request({ ...asked, id: undefined });"
                  + " let worst = 0;"
                  + " for (let i = 0; i < mine.length; i++) worst = Math.max(worst, await greyDiff(mine[i], r.result.images[i]));"
                  + " return mine.length === 2 ? worst : 'strip of ' + mine.length; }");
      assertTrue(
          worst instanceof Number n && n.intValue() <= 1, "largest grey-level difference " + worst);
      // One attribute for the codes, one the test's reference: no decode.
      assertEquals(attributesBefore + 2, server.modelRequests("attribute"));
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"));
      assertEquals(List.of(), w.errors());
    }
  }

  private static int sent(Page page, String type) {
    return ((Number) page.evaluate("t => window.sent[t] ?? 0", type)).intValue();
  }
}
