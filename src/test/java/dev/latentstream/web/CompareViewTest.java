package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The compare view on three finished synthetic runs that differ in β, on the real server. */
@Timeout(300)
@TestMethodOrder(MethodOrderer.MethodName.class)
class CompareViewTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static final List<Integer> nums = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    List<String> ids = new ArrayList<>();
    for (double beta : new double[] {1, 2, 4}) {
      JsonObject job = server.startJob(server.spec(2, 4).put("beta", beta));
      ids.add(job.getString("id"));
      nums.add(job.getInteger("num"));
    }
    for (String id : ids) {
      TestServer.awaitStatus(server, id, "completed", 150);
    }
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  static final String CURVES =
      "() => { const p = window.latentstream.compare.chart.plot; if (!p) return -1;"
          + " return p.series.slice(1).filter((s, i) => p.data[i + 1].some(v => v != null)).length; }";

  static final String ROW_STEPS =
      "kind => [...document.querySelectorAll(`#compare-grid canvas[data-kind=\"${kind}\"]`)]"
          + ".map(c => [c.dataset.row, c.dataset.step ?? ''])";

  @Test
  void threeRunsPickedFromTheListGiveOneChartOneSliderFlipDifferenceAndASortableTable()
      throws Exception {
    try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 1000)) {
      Page page = w.page();
      page.waitForFunction(
          "n => document.querySelectorAll('#runs .pick').length >= n", nums.size());
      for (int num : nums) {
        page.locator("#runs li:has(.pick[aria-label$='#" + num + "']) .pick").check();
      }
      page.click("#compare-open");
      String expected = "compare=" + nums.get(0) + "," + nums.get(1) + "," + nums.get(2);
      page.waitForFunction("q => location.search === '?' + q", expected);
      assertTrue(page.isHidden("#single-view"));

      // One chart, three curves (one per run), named by the key that differs.
      page.selectOption("#compare-term", "loss");
      page.waitForFunction("(" + CURVES + ")() === 3");
      assertEquals(
          List.of("β=1", "β=2", "β=4"),
          page.evaluate(
              "() => [...document.querySelectorAll('#compare-legend li')].map(li => li.textContent)"));
      page.selectOption("#compare-term", "test");
      page.waitForFunction("(" + CURVES + ")() === 3");

      // One slider: every run's frame at the same step, nearest at or before it.
      int target = 13;
      page.evaluate(
          "s => { const e = document.getElementById('compare-slider'); e.value = s; e.dispatchEvent(new Event('input')); }",
          target);
      // Each cell is painted as its own fetch lands: wait for both streams' cells.
      page.waitForFunction(
          "([f, n]) => ['recon', 'samples'].every(kind => { const r = ("
              + ROW_STEPS
              + ")(kind); return r.length === n"
              + " && r.every(([, s]) => s !== '' && Number(s) <= 13 && s === r[0][1]); })",
          List.of(ROW_STEPS, nums.size()));
      @SuppressWarnings("unchecked")
      List<List<String>> recon = (List<List<String>>) page.evaluate("(" + ROW_STEPS + ")('recon')");
      @SuppressWarnings("unchecked")
      List<List<String>> samples =
          (List<List<String>>) page.evaluate("(" + ROW_STEPS + ")('samples')");
      assertEquals(
          nums.stream().map(String::valueOf).toList(), recon.stream().map(r -> r.get(0)).toList());
      assertEquals(
          recon.stream().map(r -> r.get(1)).toList(),
          samples.stream().map(r -> r.get(1)).toList(),
          "both streams at the same step for every run: " + recon + " " + samples);
      int shown = Integer.parseInt(recon.get(0).get(1));
      assertTrue(
          shown <= target && shown > target - 4,
          "the kept frame nearest at or before " + target + ": " + shown);
      assertEquals("step 13", page.textContent("#compare-step"));
      // Cells are drawn at the size they are shown (200 CSS px), not the frames' 482 px.
      assertEquals(
          true,
          page.evaluate(
              "() => [...document.querySelectorAll('#compare-grid canvas[data-painted=\"true\"]')]"
                  + ".every(c => c.width > 0 && Math.max(c.width, c.height) <= Math.round(200 * devicePixelRatio))"));

      // Flip: one place on screen, one key switches between the first two runs.
      page.check("#compare-flip");
      page.waitForFunction(
          "n => { const r = document.querySelectorAll('#compare-grid tbody tr');"
              + " return r.length === 1 && r[0].dataset.row === String(n); }",
          nums.get(0));
      page.keyboard().press("f");
      page.waitForFunction(
          "n => { const r = document.querySelectorAll('#compare-grid tbody tr');"
              + " return r.length === 1 && r[0].dataset.row === String(n); }",
          nums.get(1));
      page.waitForFunction(
          "() => document.querySelector('#compare-grid canvas[data-kind=\"recon\"]').dataset.step === '"
              + shown
              + "'");
      page.uncheck("#compare-flip");

      // Difference: |a − b| of the first two runs, pixel by pixel.
      page.check("#compare-diff");
      page.waitForFunction(
          "() => document.querySelector('canvas[data-row=\"diff\"][data-kind=\"recon\"]')?.dataset.painted === 'true'");
      @SuppressWarnings("unchecked")
      List<Number> check =
          (List<Number>)
              page.evaluate(
                  "([a, b]) => {"
                      + " const px = c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                      + " const q = r => document.querySelector(`canvas[data-row=\"${r}\"][data-kind=\"recon\"]`);"
                      + " const A = px(q(a)), B = px(q(b)), D = px(q('diff')); let wrong = 0, total = 0;"
                      + " for (let i = 0; i < A.length; i += 4) for (let c = 0; c < 3; c++) {"
                      + "   const d = Math.abs(A[i + c] - B[i + c]); total += d; if (D[i + c] !== d) wrong++; }"
                      + " return [wrong, total, A.length]; }",
                  List.of(nums.get(0), nums.get(1)));
      assertEquals(0, check.get(0).intValue(), "every difference pixel is |a - b|");
      assertTrue(check.get(1).doubleValue() > 0, "runs with another β reconstruct differently");

      // The table: a row per run; every column sorts; a click opens the run.
      page.waitForFunction(
          "n => document.querySelectorAll('#compare-table tbody tr').length === n", nums.size());
      page.click("#compare-table th:has-text('best test loss') button");
      List<Double> up = bestColumn(page);
      assertEquals(up.stream().sorted().toList(), up);
      page.click("#compare-table th:has-text('best test loss') button");
      List<Double> down = bestColumn(page);
      assertEquals(up.reversed(), down);
      page.click("#compare-table th:has-text('run') button");
      assertEquals(
          List.of("β=1", "β=2", "β=4"),
          page.evaluate(
              "() => [...document.querySelectorAll('#compare-table tbody tr td:first-child')].map(td => td.textContent)"));

      // A reload restores the view from the address.
      page.reload();
      page.waitForFunction("(" + CURVES + ")() === 3");
      assertTrue(page.isHidden("#single-view"));
      assertEquals("?" + expected, page.evaluate("() => location.search"));
      page.waitForFunction(
          "n => document.querySelectorAll('#compare-table tbody tr').length === n", nums.size());

      page.click("#compare-table tbody tr[data-job='" + nums.get(2) + "']");
      page.waitForFunction(
          "n => window.latentstream.state.selected === n && !document.getElementById('single-view').hidden",
          nums.get(2));
      assertEquals("", page.evaluate("() => location.search"));
      w.screenshot("compare-view");
      assertEquals(
          List.of(),
          w.errors().stream()
              .filter(e -> !e.contains("the server responded with a status of 404"))
              .toList());
    }
  }

  @Test
  void aSweepStartedFromTheFormCreatesTheGridsJobsAndOpensTheViewOnThem() throws Exception {
    try (var w =
        chromium.open(
            "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN, 1280, 1000)) {
      Page page = w.page();
      page.waitForFunction(
          "() => window.latentstream.state.authorized && document.getElementById('spec').value.includes('synthetic')");
      page.fill("#start-beta", "0.5, 8");
      page.fill("#epochs", "1");
      page.click("#start-form button[type=submit]");
      page.waitForFunction("() => /^\\?compare=\\d+,\\d+$/.test(location.search)");
      JsonArray jobs =
          new JsonArray(
              server.request(io.vertx.core.http.HttpMethod.GET, "/api/jobs", null, null).body());
      List<JsonObject> members =
          jobs.stream().map(o -> (JsonObject) o).filter(j -> j.getString("sweep") != null).toList();
      assertEquals(2, members.size(), jobs.encode());
      assertEquals(members.get(0).getString("sweep"), members.get(1).getString("sweep"));
      assertEquals(
          List.of(0.5, 8.0),
          members.stream().map(j -> j.getJsonObject("spec").getDouble("beta")).toList());
      assertEquals(List.of(1, 1), members.stream().map(j -> j.getInteger("epochs")).toList());
      assertEquals(
          "?compare=" + members.get(0).getInteger("num") + "," + members.get(1).getInteger("num"),
          page.evaluate("() => location.search"));
      page.waitForFunction("() => document.querySelectorAll('#compare-legend li').length === 2");
      assertEquals(
          List.of("β=0.5", "β=8"),
          page.evaluate(
              "() => [...document.querySelectorAll('#compare-legend li')].map(li => li.textContent)"));
      // A bad list is refused beside its field, and nothing is sent.
      page.click("#compare-close");
      page.fill("#start-beta", "1, x");
      page.click("#start-form button[type=submit]");
      page.waitForFunction(
          "() => document.getElementById('start-beta-error').textContent.includes('\"x\"')");
      assertEquals(
          jobs.size(),
          new JsonArray(
                  server.request(io.vertx.core.http.HttpMethod.GET, "/api/jobs", null, null).body())
              .size());
    }
  }

  static List<Double> bestColumn(Page page) {
    @SuppressWarnings("unchecked")
    List<String> cells =
        (List<String>)
            page.evaluate(
                "() => { const i = [...document.querySelectorAll('#compare-table thead th')]"
                    + ".findIndex(th => th.textContent.startsWith('best test loss'));"
                    + " return [...document.querySelectorAll('#compare-table tbody tr')].map(tr => tr.cells[i].textContent); }");
    return cells.stream().map(Double::valueOf).toList();
  }

  /**
   * Each step's change of paints per cell ("run/stream", "diff/stream"), and the chart's redraws.
   */
  static final String REPAINTS =
      "async () => {"
          + PageBenchmark.FAKE_FRAMES
          + PageBenchmark.FAKE_RUNS
          + """
        const ls = window.latentstream;
        const nums = fakeRuns(3, 100);
        ls.showCompare(nums);
        const diff = document.getElementById('compare-diff');
        diff.checked = true;
        diff.dispatchEvent(new Event('change'));
        const frames = n => new Promise(r => { const f = k => (k ? requestAnimationFrame(() => f(k - 1)) : r()); f(n); });
        const quiet = async () => { await new Promise(r => setTimeout(r, 300)); await frames(5); };
        const paints = () => Object.fromEntries([...document.querySelectorAll('#compare-grid canvas')]
          .map(c => [`${c.dataset.row === 'diff' ? 'diff' : c.dataset.row - 9000}/${c.dataset.kind}`, Number(c.dataset.paints ?? 0)]));
        const change = async act => {
          const before = paints();
          await act();
          await quiet();
          const after = paints();
          return Object.fromEntries(Object.entries(after).filter(([k, v]) => v !== before[k]).map(([k, v]) => [k, v - before[k]]));
        };
        // The runs have no frames on the server: each cell says so, once.
        for (let i = 0; i < 600 && Object.values(paints()).some(n => n === 0); i++) await frames(1);
        await quiet();
        const pngs = await fakePngs(2);
        let next = 101;
        const out = {};
        const redraws = ls.compare.chart.frameTimes.length;
        out.lossOnly = await change(async () => {
          for (let i = 0; i < 60; i++, next++) {
            for (const num of nums) ls.receive({ type: 'loss', job: num, columns: { step: [next], epoch: [1],
              time: [Date.now()], recon: [250], kl: [15], loss: [265] } });
            await frames(1);
          }
        });
        out.chartRedraws = ls.compare.chart.frameTimes.length - redraws;
        out.firstRunsRecon = await change(() => ls.frame(fakeFrame(nums[0], 1, next, pngs[0])));
        out.secondRunsRecon = await change(() => ls.frame(fakeFrame(nums[1], 1, next, pngs[1])));
        out.thirdRunsSamplesThrice = await change(() => {
          for (let k = 0; k < 3; k++) ls.frame(fakeFrame(nums[2], 2, next + k, pngs[k % 2]));
        });
        out.sameFrameAgain = await change(() => ls.frame(fakeFrame(nums[0], 1, next, pngs[0])));
        out.firstRunsNextRecon = await change(() => ls.frame(fakeFrame(nums[0], 1, next + 5, pngs[1])));
        out.painted = [...document.querySelectorAll('#compare-grid canvas')]
          .filter(c => c.dataset.painted === 'true').map(c => `${c.dataset.row}/${c.dataset.kind}@${c.dataset.step}`).sort();
        return out;
      }
      """;

  /**
   * Issue 18: an image cell repaints only when what it shows changes. Loss points redraw the chart
   * and leave every cell alone; frames that reach one cell within one animation frame are painted
   * once; a frame of a run outside the difference leaves the difference alone; a frame the cell
   * already shows is not painted again. Counted by the page's own count of cell paints ({@code
   * data-paints} per cell), on three made-up runs fed through the page's entry points.
   */
  @Test
  void cellsRepaintOnlyWhenANewFrameArrivesForThem() {
    try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 1000)) {
      var page = w.page();
      page.waitForFunction(
          "() => window.latentstream && document.getElementById('connection').textContent === 'live'");
      @SuppressWarnings("unchecked")
      Map<String, Object> r = (Map<String, Object>) page.evaluate(REPAINTS);
      assertEquals(Map.of(), r.get("lossOnly"), "loss points alone repaint no cell");
      assertTrue(
          ((Number) r.get("chartRedraws")).intValue() >= 10,
          "the chart redrew meanwhile: " + r.get("chartRedraws"));
      // The difference of runs 0 and 1 waits for both images, and says so once.
      assertEquals(Map.of("0/recon", 1), r.get("firstRunsRecon"));
      assertEquals(Map.of("1/recon", 1, "diff/recon", 1), r.get("secondRunsRecon"));
      assertEquals(
          Map.of("2/samples", 1),
          r.get("thirdRunsSamplesThrice"),
          "three frames in one animation frame: one paint, and the difference of runs 0 and 1 stays");
      assertEquals(Map.of(), r.get("sameFrameAgain"));
      assertEquals(Map.of("0/recon", 1, "diff/recon", 1), r.get("firstRunsNextRecon"));
      assertEquals(
          List.of("9000/recon@166", "9001/recon@161", "9002/samples@163", "diff/recon@166|161"),
          r.get("painted"));
      // The made-up runs have no frames on the server: its 404s are the only console lines.
      assertEquals(
          List.of(),
          w.errors().stream().filter(e -> !e.startsWith("Failed to load resource")).toList());
    }
  }
}
