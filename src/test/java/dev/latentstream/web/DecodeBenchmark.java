package dev.latentstream.web;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.PlaywrightException;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.options.BoundingBox;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Hover-decode latency in the real page, decoded in the page (on the main thread, weights from
 * {@code model.safetensors?part=decoder}) against decoded by the server (the weights' download made
 * to fail, so the page falls back). The model is the default decoder's size, 20 → 400 → 784,
 * trained one epoch on synthetic data. Training under 50 explorers is {@code LoadGenerator
 * --page-explorers} (its own process). A benchmark: it prints, it asserts nothing.
 *
 * <p>The headline moves the mouse as a user does: Playwright's {@code page.mouse().move} goes
 * through CDP {@code Input.dispatchMouseEvent}, the browser's own input pipeline, which in Chromium
 * delivers mouse moves at the start of a frame, before its animation-frame callbacks. A listener
 * the benchmark adds (capture phase, on the plane) notes for each move when the input reached the
 * browser ({@code event.timeStamp}) and when the page's handler began, then, once the image is
 * drawn, the next animation-frame callback: the frame that shows it. The goal, issue 20, is p95 ≤
 * 16 ms from the handler to that frame. The old measure, a PointerEvent dispatched from script at a
 * random point of a frame, waits up to a whole frame (16.7 ms at 60 Hz) even for a page that costs
 * nothing, so it is printed second, for comparison with earlier figures.
 */
public final class DecodeBenchmark {

  /** Moves before the measured ones: the weights' first download, the JIT. */
  static final int WARM_UP = 20;

  /**
   * Starts the records: {@code window.hoverLog} (one per pointer move: {@code at}, its
   * event.timeStamp; {@code start}, the handler's; {@code drawn}, when the image was on the canvas;
   * {@code shown} and {@code frame}, the next animation-frame callback's time and its frame's
   * begin) and {@code window.frameTimes}, every frame's begin.
   */
  static final String RECORD =
      """
      () => {
        const o = document.getElementById('latent-overlay'), c = document.getElementById('hover-decode');
        const log = window.hoverLog = [], frames = window.frameTimes = [];
        const loop = t => { frames.push(t); requestAnimationFrame(loop); };
        requestAnimationFrame(loop);
        o.addEventListener('pointermove', e => log.push({ at: e.timeStamp, start: performance.now() }), { capture: true });
        new MutationObserver(() => {
          const m = log[log.length - 1];
          if (!m || m.drawn != null) return;
          m.drawn = performance.now();
          requestAnimationFrame(t => { m.shown = performance.now(); m.frame = t; });
        }).observe(c, { attributes: true, attributeFilter: ['data-painted'] });
      }
      """;

  /** Whether a move came after {@code n} and its image's frame was seen. */
  static final String SHOWN =
      "n => window.hoverLog.length > n && window.hoverLog[window.hoverLog.length - 1].shown != null";

  /**
   * The older measure: {@code n} PointerEvents dispatched from script after 20 unmeasured ones,
   * each waiting for the decode to be painted: move → the frame after it, and → image drawn.
   */
  static final String SYNTHETIC =
      """
      async n => {
        const o = document.getElementById('latent-overlay'), img = document.getElementById('hover-decode');
        const r = o.getBoundingClientRect();
        const times = [], ready = [];
        for (let i = 0; i < n + 20; i++) {
          const changed = new Promise(resolve => {
            const mo = new MutationObserver(() => { mo.disconnect(); resolve(true); });
            mo.observe(img, { attributes: true, attributeFilter: ['data-painted'] });
            setTimeout(() => { mo.disconnect(); resolve(false); }, 5000);
          });
          const t0 = performance.now();
          o.dispatchEvent(new PointerEvent('pointermove', { bubbles: true,
            clientX: r.left + r.width * (0.1 + 0.8 * ((i * 7) % 23) / 22),
            clientY: r.top + r.height * (0.1 + 0.8 * ((i * 11) % 19) / 18) }));
          if (!(await changed)) continue;
          const t1 = performance.now();
          await new Promise(resolve => requestAnimationFrame(() => resolve()));
          if (i >= 20) { times.push(performance.now() - t0); ready.push(t1 - t0); }
          await new Promise(resolve => setTimeout(resolve, 20));
        }
        return { times, ready };
      }
      """;

  public static void main(String[] args) throws Exception {
    int moves = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path root = Files.createTempDirectory("latentstream-decode");
    try (TestServer server = new TestServer(root, new JsonObject());
        Chromium chromium = new Chromium()) {
      String id =
          server
              .startJob(
                  server.spec(1, 50).put("hidden", new JsonArray().add(400)).put("latent", 20))
              .getString("id");
      TestServer.awaitStatus(server, id, "completed", 600);
      String url = "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN;
      for (boolean local : new boolean[] {true, false}) {
        try (var w = chromium.open(url, 1280, 1000)) {
          Page page = w.page();
          if (!local) {
            page.route("**/model.safetensors*", Route::abort);
          }
          page.waitForFunction("() => window.latentstream.state.plane != null");
          System.out.printf(
              "%s%n",
              local ? "DECODED IN THE PAGE (goal: (a) p95 <= 16 ms)" : "DECODED BY THE SERVER");
          realMoves(page, moves);
          synthetic(page, moves);
          System.out.printf("  last caption: %s%n", page.textContent("#hover-z"));
        }
      }
      System.out.printf(
          Locale.ROOT, "load average: %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    }
  }

  /** {@code n} measured mouse moves through the browser's input pipeline, printed. */
  @SuppressWarnings("unchecked")
  static void realMoves(Page page, int n) {
    page.evaluate(RECORD);
    page.locator("#latent-overlay").scrollIntoViewIfNeeded();
    BoundingBox box = page.locator("#latent-overlay").boundingBox();
    Random random =
        new Random(20); // the pause between moves: each lands at its own point of a frame
    int lost = 0;
    for (int i = 0; i < n + WARM_UP; i++) {
      int before = ((Number) page.evaluate("() => window.hoverLog.length")).intValue();
      page.mouse()
          .move(
              box.x + box.width * (0.1 + 0.8 * ((i * 7) % 23) / 22.0),
              box.y + box.height * (0.1 + 0.8 * ((i * 11) % 19) / 18.0));
      try {
        page.waitForFunction(
            SHOWN,
            before,
            new Page.WaitForFunctionOptions().setTimeout(i < WARM_UP ? 30_000 : 5000));
      } catch (PlaywrightException e) {
        lost++;
      }
      page.waitForTimeout(5 + 17 * random.nextDouble());
    }
    Map<String, Object> r =
        (Map<String, Object>)
            page.evaluate(
                "w => ({ log: window.hoverLog.slice(w).filter(m => m.shown != null), frames: window.frameTimes })",
                WARM_UP);
    List<Map<String, Number>> log = (List<Map<String, Number>>) r.get("log");
    List<Number> frames = (List<Number>) r.get("frames");
    List<Double> own = new ArrayList<>(), whole = new ArrayList<>(), delivery = new ArrayList<>();
    List<Double> drawn = new ArrayList<>();
    int first = 0;
    for (Map<String, Number> m : log) {
      double at = num(m.get("at")), start = num(m.get("start")), shown = num(m.get("shown"));
      double frame = num(m.get("frame"));
      own.add(shown - start);
      whole.add(shown - at);
      delivery.add(start - at);
      drawn.add(num(m.get("drawn")) - start);
      // In the first frame after the input arrived: no frame began between the two.
      if (frames.stream().mapToDouble(Number::doubleValue).noneMatch(f -> f > at && f < frame)) {
        first++;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "  %d real mouse moves (Playwright page.mouse().move: CDP Input.dispatchMouseEvent), %d"
            + " without an image in 5 s:%n"
            + "  (a) handler start -> the animation frame that shows the image (the page's own"
            + " latency): %s%n"
            + "  (b) input reached the browser (event.timeStamp) -> that frame (adds the browser's"
            + " wait to deliver the input at a frame start): %s%n"
            + "  (c) image in the first frame after the input arrived: %d of %d (%.1f %%)%n"
            + "  handler start -> image on the canvas: %s%n"
            + "  input delivery, handler start - event.timeStamp: %s; %s%n",
        log.size(),
        lost,
        stats(own),
        stats(whole),
        first,
        log.size(),
        log.isEmpty() ? 0.0 : 100.0 * first / log.size(),
        stats(drawn),
        stats(delivery),
        alignment(delivery));
  }

  /** The older synthetic-dispatch measure, printed as a secondary line. */
  @SuppressWarnings("unchecked")
  static void synthetic(Page page, int n) {
    Map<String, Object> r = (Map<String, Object>) page.evaluate(SYNTHETIC, n);
    List<Double> times = doubles((List<Number>) r.get("times"));
    List<Double> ready = doubles((List<Number>) r.get("ready"));
    System.out.printf(
        Locale.ROOT,
        "  secondary, %d PointerEvents dispatched from script at a random point of a frame (waits"
            + " up to 16.7 ms for the next frame by construction): move -> the frame after the"
            + " image %s; -> image drawn %s%n",
        times.size(),
        stats(times),
        stats(ready));
  }

  /**
   * How the delivery waits spread: all under a millisecond means the input was handled as it came;
   * spread over a frame means it waited for a frame's start.
   */
  static String alignment(List<Double> delivery) {
    int[] counts = new int[6];
    double[] upTo = {1, 4, 8, 12, 17, Double.MAX_VALUE};
    for (double d : delivery) {
      int k = 0;
      while (d >= upTo[k]) {
        k++;
      }
      counts[k]++;
    }
    double median = percentile(delivery, 50);
    return String.format(
        Locale.ROOT,
        "<1 ms %d, 1-4 ms %d, 4-8 ms %d, 8-12 ms %d, 12-17 ms %d, >=17 ms %d: %s",
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        counts[5],
        median >= 2
            ? "the input waited for a frame's start (aligned to frames)"
            : "the input was handled as it came (NOT aligned to frames in this browser)");
  }

  static String stats(List<Double> values) {
    if (values.isEmpty()) {
      return "no values";
    }
    return String.format(
        Locale.ROOT,
        "p50 %.1f ms, p95 %.1f ms, max %.1f ms",
        percentile(values, 50),
        percentile(values, 95),
        percentile(values, 100));
  }

  static double percentile(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p / 100 * sorted.size())));
  }

  private static List<Double> doubles(List<Number> values) {
    return values.stream().map(Number::doubleValue).toList();
  }

  private static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private DecodeBenchmark() {}
}
