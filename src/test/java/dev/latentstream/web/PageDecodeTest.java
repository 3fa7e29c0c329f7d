package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding in the page: with the token (the weights' download needs it), a 20-d MLP VAE's hovers
 * and arrow keys are decoded in the page (no {@code decode} message leaves the page), on the main
 * thread in the handler of the move: the image is on the canvas when the event's dispatch returns.
 * Strips are decoded in the page's worker, which paints them on an OffscreenCanvas and hands over
 * ImageBitmaps; where the browser has no OffscreenCanvas the worker sends pixels and the page makes
 * the bitmaps. Either way the images shown equal the server's decode of the same plane points
 * within one grey level.
 */
@Timeout(300)
class PageDecodeTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;

  /**
   * Counts the requests the page sends on its sockets by type ({@code window.sent}), keeps the
   * attribute requests ({@code window.attributes}), and defines {@code greyDiff} ({@link
   * ExplorerPage#GREY_DIFF}).
   */
  static final String COUNT_REQUESTS =
      "window.sent = {}; window.attributes = []; const send = WebSocket.prototype.send;"
          + " WebSocket.prototype.send = function (m) {"
          + " if (typeof m === 'string') { const j = JSON.parse(m);"
          + "   window.sent[j.type] = (window.sent[j.type] ?? 0) + 1;"
          + "   if (j.type === 'attribute') window.attributes.push(j); }"
          + " return send.call(this, m); };"
          + ExplorerPage.GREY_DIFF;

  /**
   * Three plane points hovered in turn: the largest grey-level difference between the hover image
   * the page painted and the server's decode of the point (asked on the page's socket, waiting when
   * the trainer is busy).
   */
  static final String HOVERS_AGAINST_THE_SERVER =
      "async () => { const ls = window.latentstream; const [x0, x1, y0, y1] = ls.state.plane;"
          + " const job = ls.state.selected; let worst = 0;"
          + " for (const p of [[x0 * 0.8, y1 * 0.8], [0, 0], [x1 * 0.5, y0 * 0.3]]) {"
          + "   while (ls.explorer.decodeBusy) await new Promise(d => setTimeout(d, 10));"
          + "   await ls.explorer.decodeAt(p);"
          + "   const r = await ls.connection.modelRequest({ type: 'decode', job, plane: p });"
          + "   worst = Math.max(worst, await greyDiff(document.getElementById('hover-decode'), r.result.images[0])); }"
          + " return worst; }";

  /**
   * Twenty pointer moves and two arrow keys, each dispatched and read back with nothing awaited in
   * between (no task can run): how many paints and which caption each left, and the largest
   * grey-level difference between three of those images, copied at once, and the server's decode of
   * their plane points.
   */
  static final String PAINTED_IN_THE_HANDLER =
      """
      async () => {
        const ls = window.latentstream, o = document.getElementById('latent-overlay');
        const c = document.getElementById('hover-decode'), caption = () => document.getElementById('hover-z').textContent;
        const paints = () => Number(c.dataset.painted ?? 0), r = o.getBoundingClientRect();
        const copy = () => { const s = document.createElement('canvas'); s.width = c.width; s.height = c.height;
          s.getContext('2d').drawImage(c, 0, 0); return s; };
        const said = p => `decoded (${p[0].toFixed(2)}, ${p[1].toFixed(2)}) in your browser, weights from step`;
        const moves = [];
        for (let i = 0; i < 20; i++) {
          const e = new PointerEvent('pointermove', { bubbles: true,
            clientX: r.left + r.width * (0.15 + 0.7 * i / 19), clientY: r.top + r.height * (0.8 - 0.6 * i / 19) });
          const before = paints();
          o.dispatchEvent(e);
          const p = ls.explorer.pointerToPlane(e);
          moves.push({ paints: paints() - before, said: caption().startsWith(said(p)), p, image: copy() });
        }
        o.focus();
        const keys = [];
        for (const key of ['ArrowRight', 'ArrowUp']) {
          const before = paints();
          o.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
          keys.push({ paints: paints() - before, said: caption().startsWith(said(ls.explorer.cursor)) });
        }
        let worst = 0;
        for (const m of [moves[0], moves[10], moves[19]]) {
          const s = await ls.connection.modelRequest({ type: 'decode', job: ls.state.selected, plane: m.p });
          worst = Math.max(worst, await greyDiff(m.image, s.result.images[0]));
        }
        return { moves: moves.map(m => m.paints + ':' + m.said), keys: keys.map(k => k.paints + ':' + k.said), worst };
      }
      """;

  /**
   * Two marks on the plane, as two clicks make them, and the strip between them in #strip: the
   * largest grey-level difference from the server's interpolation of the same marks (or what went
   * wrong).
   */
  static final String STRIP_AGAINST_THE_SERVER =
      "async () => { const ls = window.latentstream; const [x0, x1, y0, y1] = ls.state.plane;"
          + " ls.explorer.local.painter = null;"
          + " const a = [x0 * 0.7, y0 * 0.6], b = [x1 * 0.6, y1 * 0.8];"
          + " const before = window.sent.interpolate ?? 0;"
          + " await ls.explorer.markEnd(a); await ls.explorer.markEnd(b);"
          + " if ((window.sent.interpolate ?? 0) !== before) return 'the page asked the server to interpolate';"
          + " const mine = [...document.querySelectorAll('#strip canvas')];"
          + " const r = await ls.connection.modelRequest({ type: 'interpolate', job: ls.state.selected,"
          + "   from: { plane: a }, to: { plane: b }, steps: mine.length,"
          + "   mode: document.getElementById('spherical').checked ? 'spherical' : 'linear' });"
          + " let worst = 0;"
          + " for (let i = 0; i < mine.length; i++) worst = Math.max(worst, await greyDiff(mine[i], r.result.images[i]));"
          + " return mine.length === 10 ? worst : 'strip of ' + mine.length; }";

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
    try (var w = ExplorerPage.openOnPlane(chromium, server, COUNT_REQUESTS)) {
      Page page = w.page();
      long decodesBefore = server.modelRequests("decode");
      // 200 pointer moves across the plane, each waiting for its decode to land.
      page.evaluate(
          "async () => { const o = document.getElementById('latent-overlay');"
              + " const r = o.getBoundingClientRect();"
              + " for (let i = 0; i < 200; i++) {"
              + "   const before = document.getElementById('hover-z').textContent;"
              + "   o.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * (0.1 + 0.8 * (i % 20) / 19),"
              + "     clientY: r.top + r.height * (0.1 + 0.8 * Math.floor(i / 20) / 9), bubbles: true }));"
              + "   for (let k = 0; k < 800 && document.getElementById('hover-z').textContent === before; k++)"
              + "     await new Promise(d => setTimeout(d, 5)); } }");
      String caption = page.textContent("#hover-z");
      assertTrue(caption.contains("in your browser, weights from step"), caption);
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"), "the server counted decodes");

      // Each move's image and caption are there when its dispatch returns: a worker round trip
      // would
      // leave them to a later task.
      @SuppressWarnings("unchecked")
      Map<String, Object> inHandler = (Map<String, Object>) page.evaluate(PAINTED_IN_THE_HANDLER);
      assertEquals(Collections.nCopies(20, "1:true"), inHandler.get("moves"), inHandler.toString());
      assertEquals(List.of("1:true", "1:true"), inHandler.get("keys"), inHandler.toString());
      int painted = ((Number) inHandler.get("worst")).intValue();
      assertTrue(painted <= 1, "largest grey-level difference " + painted);
      assertEquals(
          null,
          page.evaluate("() => window.latentstream.explorer.local.painter"),
          "no hover went to the worker");

      // The same plane points decoded by the server: the page's pixels equal them within 1/255.
      int maxDiff = ((Number) page.evaluate(HOVERS_AGAINST_THE_SERVER)).intValue();
      assertTrue(maxDiff <= 1, "largest grey-level difference " + maxDiff);
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void withoutOffscreenCanvasThePageMakesTheImagesAndTheyStillMatchTheServers() throws Exception {
    try (var w =
        ExplorerPage.openOnPlane(
            chromium, server, "delete window.OffscreenCanvas;" + COUNT_REQUESTS)) {
      Page page = w.page();
      assertTrue(
          ExplorerPage.hover(page, 0.4, 0.6).contains("in your browser, weights from step"),
          page.textContent("#hover-z"));
      assertEquals(0, sent(page, "decode"));
      int maxDiff = ((Number) page.evaluate(HOVERS_AGAINST_THE_SERVER)).intValue();
      assertTrue(maxDiff <= 1, "largest grey-level difference " + maxDiff);
      // A strip: the worker sends pixels, and the page makes the bitmaps.
      Object worst = page.evaluate(STRIP_AGAINST_THE_SERVER);
      assertEquals("page", page.evaluate("() => window.latentstream.explorer.local.painter"));
      assertTrue(
          worst instanceof Number n && n.intValue() <= 1, "largest grey-level difference " + worst);
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void interpolationAndAttributeStripsAreDecodedInThePageAndMatchTheServers() throws Exception {
    try (var w = ExplorerPage.openOnPlane(chromium, server, COUNT_REQUESTS)) {
      Page page = w.page();
      long decodesBefore = server.modelRequests("decode");
      long interpolationsBefore = server.modelRequests("interpolate");
      long attributesBefore = server.modelRequests("attribute");
      for (boolean spherical : new boolean[] {false, true}) {
        page.setChecked("#spherical", spherical);
        // Two marks, as two clicks on the plane make them; the strip lands in #strip.
        Object worst = page.evaluate(STRIP_AGAINST_THE_SERVER);
        assertEquals(
            "interpolated 10 images in your browser",
            page.textContent("#explorer-status").replaceAll(", weights from step.*", ""));
        assertTrue(
            worst instanceof Number n && n.intValue() <= 1,
            (spherical ? "spherical" : "linear") + ": largest grey-level difference " + worst);
        assertEquals(
            "worker",
            page.evaluate("() => window.latentstream.explorer.local.painter"),
            "strips are painted in the worker");
      }
      // The test sent its own reference requests (again when the trainer was busy), and the page
      // none: the server counted the test's.
      assertEquals(
          interpolationsBefore + sent(page, "interpolate"), server.modelRequests("interpolate"));
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"));

      page.evaluate("() => window.latentstream.explorer.local.painter = null");
      page.click("#attr-apply");
      page.waitForFunction(
          "() => document.getElementById('explorer-status').textContent.includes('decoded')");
      assertTrue(
          page.textContent("#explorer-status").contains("decoded in your browser"),
          page.textContent("#explorer-status"));
      assertEquals("worker", page.evaluate("() => window.latentstream.explorer.local.painter"));
      assertEquals(
          true,
          page.evaluate("() => window.attributes.every(a => a.images === false)"),
          "the page asks only for the codes");
      Object worst =
          page.evaluate(
              "async () => { const ls = window.latentstream; const mine = [...document.querySelectorAll('#strip canvas')];"
                  + " const { images, ...asked } = window.attributes[0];"
                  + " const r = await ls.connection.modelRequest({ ...asked, id: undefined });"
                  + " let worst = 0;"
                  + " for (let i = 0; i < mine.length; i++) worst = Math.max(worst, await greyDiff(mine[i], r.result.images[i]));"
                  + " return mine.length === 2 ? worst : 'strip of ' + mine.length; }");
      assertTrue(
          worst instanceof Number n && n.intValue() <= 1, "largest grey-level difference " + worst);
      // The page's attribute for the codes and the test's reference: no decode.
      assertEquals(attributesBefore + sent(page, "attribute"), server.modelRequests("attribute"));
      assertEquals(0, sent(page, "decode"));
      assertEquals(decodesBefore, server.modelRequests("decode"));
      assertEquals(List.of(), w.errors());
    }
  }

  private static int sent(Page page, String type) {
    return ((Number) page.evaluate("t => window.sent[t] ?? 0", type)).intValue();
  }
}
