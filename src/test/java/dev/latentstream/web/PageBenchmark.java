package dev.latentstream.web;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Drives the real page in Chromium with 100k loss points, 50 new points and 10 image frames (each of the
 * four panels repainted) per second, and reports the page's frame time (requestAnimationFrame deltas)
 * p50/p95 and the chart's redraw cost. A benchmark: it prints, it asserts nothing.
 */
public final class PageBenchmark {

  static final String DRIVE = """
      async ([points, seconds]) => {
        const ls = window.latentstream;
        const step = [], epoch = [], recon = [], kl = [], loss = [];
        for (let i = 1; i <= points; i++) {
          step.push(i); epoch.push(1 + Math.floor(i / 469));
          const r = 250 + 300 * Math.exp(-i / 2000) + 5 * Math.sin(i / 7); const k = 15 + Math.cos(i / 11);
          recon.push(r); kl.push(k); loss.push(r + k);
        }
        ls.chart.reset({ columns: { step, epoch, recon, kl, loss }, test: { step: [], loss: [] }, settings: [] });
        const canvas = document.createElement('canvas'); canvas.width = 482; canvas.height = 482;
        const g = canvas.getContext('2d');
        const blobs = [];
        for (let f = 0; f < 8; f++) {
          g.fillStyle = '#000'; g.fillRect(0, 0, 482, 482);
          for (let k = 0; k < 400; k++) { g.fillStyle = `hsl(${(k * 37 + f * 50) % 360},70%,60%)`; g.fillRect((k * 53 + f * 7) % 470, (k * 97 + f * 3) % 470, 12, 12); }
          blobs.push(await new Promise(r => canvas.toBlob(r, 'image/png')));
        }
        let next = points + 1, frame = 0;
        const feed = setInterval(() => {
          const s = [], e = [], a = [], b = [], c = [];
          for (let i = 0; i < 5; i++, next++) { s.push(next); e.push(1); a.push(250); b.push(15); c.push(265); }
          ls.chart.append({ step: s, epoch: e, recon: a, kl: b, loss: c });
          for (const kind of ['recon', 'samples', 'latent', 'manifold']) ls.paint(kind, blobs[frame++ % blobs.length]);
        }, 100);
        const deltas = [];
        let last = performance.now();
        const end = last + seconds * 1000;
        await new Promise(resolve => {
          const tick = now => { deltas.push(now - last); last = now; if (now < end) requestAnimationFrame(tick); else resolve(); };
          requestAnimationFrame(tick);
        });
        clearInterval(feed);
        deltas.sort((x, y) => x - y);
        const redraw = [...ls.chart.frameTimes].sort((x, y) => x - y);
        const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(p / 100 * a.length))];
        return { frames: deltas.length, p50: pct(deltas, 50), p95: pct(deltas, 95), max: deltas[deltas.length - 1],
                 redrawP50: pct(redraw, 50), redrawP95: pct(redraw, 95), points: ls.chart.pointCount() };
      }
      """;

  public static void main(String[] args) throws Exception {
    Path root = Files.createTempDirectory("latentstream-page");
    try (TestServer server = new TestServer(root, new JsonObject()); Chromium chromium = new Chromium()) {
      var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 900);
      Page page = w.page();
      page.waitForFunction("() => window.latentstream && document.getElementById('connection').textContent === 'live'");
      @SuppressWarnings("unchecked")
      Map<String, Object> r = (Map<String, Object>) page.evaluate(DRIVE, List.of(100_000, 10));
      System.out.printf("page with %s loss points, 50 points and 10 frames per second for 10 s:%n", r.get("points"));
      System.out.printf("  animation frames: %s, frame time p50 %.1f ms, p95 %.1f ms, max %.1f ms%n", r.get("frames"),
          num(r.get("p50")), num(r.get("p95")), num(r.get("max")));
      System.out.printf("  chart redraw (setData, decimated): p50 %.2f ms, p95 %.2f ms%n", num(r.get("redrawP50")),
          num(r.get("redrawP95")));
      System.out.println("  console errors: " + w.errors());
    }
    System.exit(0);
  }

  static double num(Object o) {
    return ((Number) o).doubleValue();
  }
}
