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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The page's layout at phone, laptop and 4K sizes, measured in the browser: cards filled by their
 * content, no text drawn over other text or over a control, no sideways scrolling. Saves a
 * screenshot of each.
 */
@Timeout(180)
class PageLayoutTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    String id = server.startJob(server.spec(3, 4)).getString("id");
    TestServer.awaitStatus(server, id, "completed", 90);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  /**
   * Cards (and aside sections) whose children span less than half of the card's content box, as
   * "name: fraction" strings. The extent of the children, not their sum: a grid of images with gaps
   * is full.
   */
  static final String HALF_EMPTY_CARDS =
      """
      () => [...document.querySelectorAll('.card, aside section')].filter(c => c.offsetParent).flatMap(c => {
        const r = c.getBoundingClientRect(), s = getComputedStyle(c);
        const top = r.top + parseFloat(s.paddingTop), bottom = r.bottom - parseFloat(s.paddingBottom);
        const left = r.left + parseFloat(s.paddingLeft), right = r.right - parseFloat(s.paddingRight);
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const k of c.querySelectorAll('*')) {
          const b = k.getBoundingClientRect();
          if (!b.width || !b.height || getComputedStyle(k).visibility === 'hidden') continue;
          x0 = Math.min(x0, b.left); y0 = Math.min(y0, b.top); x1 = Math.max(x1, b.right); y1 = Math.max(y1, b.bottom);
        }
        const area = (right - left) * (bottom - top);
        const covered = Math.max(0, Math.min(x1, right) - Math.max(x0, left)) * Math.max(0, Math.min(y1, bottom) - Math.max(y0, top));
        const f = covered / area;
        return f < 0.5 ? [`${c.id || c.className || c.tagName} ${(c.querySelector('h2, summary')?.textContent ?? '').trim().slice(0, 30)}: ${f.toFixed(2)}`] : [];
      })
      """;

  /**
   * Pairs of boxes that overlap by more than a pixel each way: text against text of another
   * element, and text against canvases, images and form controls (never its own ancestor or
   * descendant).
   */
  static final String OVERLAPS =
      """
      () => {
        // A closed <details> keeps its content's boxes: only its summary shows.
        const folded = e => { const d = e.closest('details:not([open])'); return d && !d.querySelector(':scope > summary').contains(e); };
        const visible = e => { const s = getComputedStyle(e); return s.visibility !== 'hidden' && s.display !== 'none' && e.getClientRects().length && !folded(e) && !e.closest('.sr-only'); };
        const texts = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          const e = n.parentElement;
          if (!n.textContent.trim() || !visible(e) || e.closest('dialog:not([open]), [hidden], option, script, style')) continue;
          const range = document.createRange(); range.selectNodeContents(n);
          for (const b of range.getClientRects()) if (b.width > 1 && b.height > 1) texts.push({ e, b, what: n.textContent.trim().slice(0, 24) });
        }
        const boxes = [...document.querySelectorAll('canvas, img, input, select, textarea, button, progress')]
          .filter(e => visible(e) && !e.closest('[hidden], dialog:not([open])'))
          .map(e => ({ e, b: e.getBoundingClientRect(), what: e.id || e.tagName }));
        const hit = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
        const out = [];
        for (let i = 0; i < texts.length; i++) {
          for (let j = i + 1; j < texts.length; j++) {
            if (texts[i].e !== texts[j].e && !texts[i].e.contains(texts[j].e) && !texts[j].e.contains(texts[i].e) && hit(texts[i].b, texts[j].b)) out.push(`"${texts[i].what}" / "${texts[j].what}"`);
          }
          for (const x of boxes) {
            if (!x.e.contains(texts[i].e) && !texts[i].e.contains(x.e) && hit(texts[i].b, x.b)) out.push(`"${texts[i].what}" / ${x.what}`);
          }
        }
        return out;
      }
      """;

  @ParameterizedTest(name = "{0}x{1}")
  @CsvSource({"390, 844", "1440, 1000", "2560, 1440"})
  void atEachSizeCardsAreFilledNoTextOverlapsAndNothingScrollsSideways(int width, int height)
      throws Exception {
    try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", width, height)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream.chart.pointCount() >= 48");
      for (String p : new String[] {"recon", "samples", "latent", "manifold"}) {
        page.waitForSelector("#panel-" + p + "[data-painted]");
      }
      page.waitForFunction("() => document.querySelectorAll('#latent-legend li').length > 0");
      page.waitForFunction("() => document.querySelectorAll('#preset option').length > 0");

      double overflow =
          ((Number) page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))
              .doubleValue();
      assertTrue(
          overflow <= 0, "no sideways scrolling at " + width + " px, overflow " + overflow + " px");
      @SuppressWarnings("unchecked")
      List<String> empty = (List<String>) page.evaluate(HALF_EMPTY_CARDS);
      @SuppressWarnings("unchecked")
      List<String> overlaps = (List<String>) page.evaluate(OVERLAPS);
      w.screenshot("layout-" + width + "x" + height);
      assertEquals(List.of(), empty, "cards less than half filled");
      assertEquals(List.of(), overlaps, "overlapping boxes");

      // The latent legend sits beside or below the plot, never on it.
      var plot = page.locator(".stack").boundingBox();
      var legend = page.locator("#latent-legend").boundingBox();
      assertTrue(
          legend.x >= plot.x + plot.width - 1 || legend.y >= plot.y + plot.height - 1,
          "legend "
              + legend.x
              + ","
              + legend.y
              + " outside the plot "
              + plot.x
              + ","
              + plot.y
              + " "
              + plot.width);
      // The reconstruction pairs are re-tiled into a square that fills its card's width.
      assertEquals(
          1.0,
          ((Number)
                  page.evaluate(
                      "() => { const c = document.getElementById('panel-recon'); return c.width / c.height; }"))
              .doubleValue(),
          0.05);
      assertEquals(List.of(), w.errors(), "console errors");
    }
  }
}
