package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The compare chart's pixel columns, drawn by the real page module in Chromium. */
@Timeout(120)
class RunsChartTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  /**
   * Two runs of 100k points on an 800-pixel chart: run a dips once to 2, run b spikes once to 5000
   * (both otherwise near 250). Reads the canvas at the spike's and the dip's x for the run's
   * colour, then appends one more spike and looks for it in the data and on the y scale.
   */
  static final String DRAW =
      """
      async () => {
        const { RunsChart } = await import('/src/runs-chart.js');
        const el = document.createElement('div');
        el.style.width = '800px';
        document.body.prepend(el);
        const n = 100000, xs = [], a = [], b = [];
        for (let i = 0; i < n; i++) { xs.push(i + 1); a.push(250 + 5 * Math.sin(i / 7)); b.push(260 + 5 * Math.cos(i / 9)); }
        a[54321] = 2;
        b[77777] = 5000;
        const chart = new RunsChart(el);
        chart.setSeries([{ label: 'a', color: '#2f6fed', x: xs, y: a }, { label: 'b', color: '#e8710a', x: xs, y: b }]);
        const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        await frame();
        const u = chart.plot;
        const ctx = u.ctx;
        // The strongest colour of a run within 3 device pixels of x at the height of value v.
        const near = (x, v, score) => {
          const px = u.valToPos(x, 'x', true), py = u.valToPos(v, 'y', true);
          const d = ctx.getImageData(Math.round(px) - 3, Math.round(py), 7, 1).data;
          let best = -255;
          for (let i = 0; i < d.length; i += 4) best = Math.max(best, score(d[i], d[i + 1], d[i + 2]));
          return best;
        };
        const orange = (r, g, b) => r - b, blue = (r, g, b) => b - r;
        const result = {
          columns: chart.columns(), slots: u.data[0].length,
          spikeInData: u.data[2].includes(5000), dipInData: u.data[1].includes(2),
          yMin: u.scales.y.min, yMax: u.scales.y.max,
          spikeDrawn: near(77778, 1000, orange), dipDrawn: near(54322, 10, blue),
          // Control: the same height far from the spike holds no orange.
          elsewhere: near(20000, 1000, orange),
        };
        xs.push(n + 1); a.push(250); b.push(9000);
        chart.invalidate();
        await frame();
        result.appendedInData = chart.plot.data[2].includes(9000);
        result.yMaxAfter = chart.plot.scales.y.max;
        result.columnsAfter = chart.columns();
        result.slotsAfter = chart.plot.data[0].length;
        return result;
      }
      """;

  @Test
  void aSingleSpikeAndASingleDipAmong100kPointsStayDrawnAndTheDataIsTwoSlotsAPixelColumn() {
    try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream");
      @SuppressWarnings("unchecked")
      Map<String, Object> r = (Map<String, Object>) page.evaluate(DRAW);
      // The first draw divides the element's 800 px, later ones the plotting area's width.
      int slots = ((Number) r.get("slots")).intValue();
      assertTrue(slots > 1200 && slots <= 1600, "at most two slots per pixel column: " + r);
      int columns = ((Number) r.get("columnsAfter")).intValue();
      assertTrue(columns > 600 && columns <= 800, "columns of an 800 px chart: " + r);
      assertEquals(2 * columns, ((Number) r.get("slotsAfter")).intValue(), "two per column: " + r);
      assertEquals(true, r.get("spikeInData"), "run b's spike survives downsampling: " + r);
      assertEquals(true, r.get("dipInData"), "run a's dip survives downsampling: " + r);
      assertTrue(
          num(r.get("yMax")) >= 5000 && num(r.get("yMin")) <= 2, "the y scale spans both: " + r);
      assertTrue(num(r.get("spikeDrawn")) > 80, "the spike is drawn in run b's colour: " + r);
      assertTrue(num(r.get("dipDrawn")) > 80, "the dip is drawn in run a's colour: " + r);
      assertTrue(num(r.get("elsewhere")) < 40, "no orange away from the spike: " + r);
      assertEquals(true, r.get("appendedInData"), "a spike appended later is drawn: " + r);
      assertTrue(num(r.get("yMaxAfter")) >= 9000, "and the scale follows it: " + r);
      assertEquals(List.of(), w.errors());
    }
  }

  /**
   * The single-run chart with 100k points of three terms: a lone spike in the KL term, which the
   * loss does not show, must survive the per-pixel decimation, unsmoothed and smoothed.
   */
  static final String LOSS_CHART =
      """
      async () => {
        const { LossChart } = await import('/src/chart.js');
        const el = document.createElement('div');
        el.style.width = '800px';
        document.body.prepend(el);
        const n = 100000, step = [], recon = [], kl = [], loss = [];
        for (let i = 0; i < n; i++) {
          step.push(i + 1); recon.push(250 + 5 * Math.sin(i / 7)); kl.push(20 + Math.cos(i / 5)); loss.push(recon[i] + kl[i]);
        }
        kl[61234] = 4000;
        const chart = new LossChart(el);
        const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        chart.setSmoothing(0);
        chart.reset({ columns: { step, recon, kl, loss }, test: { step: [], loss: [] }, settings: [] });
        await frame();
        const klAt = chart.terms.indexOf('kl') + 1;
        const raw = { slots: chart.plot.data[0].length, klMax: Math.max(...chart.plot.data[klAt].filter(v => v != null)) };
        chart.setSmoothing(0.6);
        await frame();
        const smoothedPeak = Math.max(...chart.smoothed.kl);
        const smooth = { klMax: Math.max(...chart.plot.data[klAt].filter(v => v != null)), smoothedPeak };
        return { raw, smooth };
      }
      """;

  @Test
  void theRunChartKeepsASpikeInATermOtherThanTheLoss() {
    try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 900)) {
      Page page = w.page();
      page.waitForFunction("() => window.latentstream");
      @SuppressWarnings("unchecked")
      Map<String, Object> r = (Map<String, Object>) page.evaluate(LOSS_CHART);
      @SuppressWarnings("unchecked")
      Map<String, Object> raw = (Map<String, Object>) r.get("raw");
      @SuppressWarnings("unchecked")
      Map<String, Object> smooth = (Map<String, Object>) r.get("smooth");
      assertTrue(num(raw.get("slots")) < 100000 / 10, "the data is decimated: " + r);
      assertEquals(4000.0, num(raw.get("klMax")), "the KL spike is in the drawn data: " + r);
      assertEquals(
          num(smooth.get("smoothedPeak")),
          num(smooth.get("klMax")),
          1e-9,
          "the smoothed KL peak is in the drawn data: " + r);
      assertEquals(List.of(), w.errors());
    }
  }

  static double num(Object o) {
    return ((Number) o).doubleValue();
  }
}
