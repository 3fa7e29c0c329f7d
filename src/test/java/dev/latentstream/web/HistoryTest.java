package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scrubbing to a step whose frame is no longer kept: the page says so, and never shows a later
 * frame.
 */
@Timeout(180)
class HistoryTest {

  @Test
  void aStepWhoseFrameIsNoLongerKeptIsLabelledAndNotPaintedWithAnotherStepsFrame(@TempDir Path root)
      throws Exception {
    try (TestServer server = new TestServer(root, new JsonObject().put("frameHistory", 3));
        Chromium chromium = new Chromium()) {
      String id = server.startJob(server.spec(2, 2)).getString("id");
      TestServer.awaitStatus(server, id, "completed", 90);
      JsonObject index =
          server.request(HttpMethod.GET, "/api/jobs/" + id + "/frames", null, null).json();
      TreeSet<Integer> kept = new TreeSet<>();
      index.forEach(
          e -> ((Iterable<?>) e.getValue()).forEach(s -> kept.add(((Number) s).intValue())));
      assertTrue(kept.first() > 1, "step 1's frame has left the history: kept " + kept);

      try (var w = chromium.open("http://127.0.0.1:" + server.port() + "/", 1280, 900)) {
        Page page = w.page();
        page.waitForSelector("#panel-manifold[data-painted]");
        // The slider's marks are exactly the kept steps.
        page.waitForFunction("n => window.latentstream.state.frameSteps.length === n", kept.size());
        assertEquals(
            List.copyOf(kept), page.evaluate("() => window.latentstream.state.frameSteps"));

        page.evaluate(
            "() => { const e = document.getElementById('step-slider'); e.value = 1; e.dispatchEvent(new Event('input')); }");
        page.waitForFunction("() => document.getElementById('note-manifold').textContent !== ''");
        String note = page.textContent("#note-manifold");
        // Step 1 is before the first epoch's end, so there is no epoch image either: 404 "not
        // kept".
        assertEquals("not kept", note);
        assertEquals(
            0.0,
            LiveViewTest.canvas(page, "panel-manifold"),
            "no other step's picture is left on show");
        assertEquals("step 1", page.textContent("#step-label"));

        // A kept step (not the head) shows its own frame, with no note.
        int step = kept.lower(kept.last());
        page.evaluate(
            "s => { const e = document.getElementById('step-slider'); e.value = s; e.dispatchEvent(new Event('input')); }",
            step);
        page.waitForFunction("() => document.getElementById('note-manifold').textContent === ''");
        assertEquals("step " + step, page.textContent("#step-label"));
        assertTrue(LiveViewTest.canvas(page, "panel-manifold") != 0.0, "the kept frame is painted");
        w.screenshot("history-not-kept");
        // The browser reports the server's 404 "not kept" answers itself; anything else is a page
        // error.
        assertEquals(
            List.of(),
            w.errors().stream()
                .filter(e -> !e.contains("the server responded with a status of 404"))
                .toList());
      }
    }
  }
}
