package dev.latentstream.web;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;

/** The latent explorer as the decode tests drive it: open with the token, pick a run, hover. */
final class ExplorerPage {

  private ExplorerPage() {}

  /**
   * Defines {@code window.greyDiff(mine, theirs)}: the largest grey-level difference between an
   * image the page shows (a canvas or an ImageBitmap) and the server's PNG (base64) of the same
   * decode. The server's is the 28x28 image inside a grid's gap, so it searches where it sits.
   */
  static final String GREY_DIFF =
      " const pixels = async source => { const c = document.createElement('canvas');"
          + "   c.width = source.width; c.height = source.height; const g = c.getContext('2d');"
          + "   g.drawImage(source, 0, 0); return { w: c.width, h: c.height, d: g.getImageData(0, 0, c.width, c.height).data }; };"
          + " window.greyDiff = async (mine, theirs) => {"
          + "   const png = await createImageBitmap(new Blob([Uint8Array.from(atob(theirs), c => c.charCodeAt(0))]));"
          + "   const a = await pixels(mine), b = await pixels(png);"
          + "   let best = 256;"
          + "   for (let oy = 0; oy + a.h <= b.h; oy++) for (let ox = 0; ox + a.w <= b.w; ox++) { let m = 0;"
          + "     for (let y = 0; y < a.h; y++) for (let x = 0; x < a.w; x++)"
          + "       m = Math.max(m, Math.abs(a.d[4 * (y * a.w + x)] - b.d[4 * ((y + oy) * b.w + x + ox)]));"
          + "     best = Math.min(best, m); }"
          + "   return best; };";

  /** The page of {@code server} with the token, {@code initScript} (or null) run first. */
  static Chromium.Watched open(Chromium chromium, TestServer server, String initScript) {
    return chromium.open(
        "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN,
        1280,
        1000,
        initScript);
  }

  /** {@link #open}, then waits for the selected run's latent plane. */
  static Chromium.Watched openOnPlane(Chromium chromium, TestServer server, String initScript) {
    Chromium.Watched w = open(chromium, server, initScript);
    w.page().waitForFunction("() => window.latentstream.state.plane != null");
    return w;
  }

  /** Selects run {@code num} and waits for its plane. */
  static void select(Page page, int num) {
    page.waitForFunction("n => window.latentstream.state.jobs.has(n)", num);
    page.click("#runs li:has-text('#" + num + "')");
    page.waitForFunction(
        "n => window.latentstream.state.selected === n && window.latentstream.state.plane != null",
        num);
  }

  /**
   * Moves the pointer to ({@code fx}, {@code fy}) of the plane (fractions of its width and height)
   * and returns the caption the decode gets (what it was, after 10 s without a change).
   */
  static String hover(Page page, double fx, double fy) {
    return (String)
        page.evaluate(
            "async ([fx, fy]) => { const o = document.getElementById('latent-overlay'); const r = o.getBoundingClientRect();"
                + " const before = document.getElementById('hover-z').textContent;"
                + " o.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * fx,"
                + "   clientY: r.top + r.height * fy, bubbles: true }));"
                + " for (let k = 0; k < 1000 && document.getElementById('hover-z').textContent === before; k++)"
                + "   await new Promise(d => setTimeout(d, 10));"
                + " return document.getElementById('hover-z').textContent; }",
            java.util.List.of(fx, fy));
  }
}
