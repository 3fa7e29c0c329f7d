package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding a past step: a run that keeps its epoch checkpoints ({@code keepEpochCheckpoints})
 * serves each epoch's weights ({@code model.safetensors?epoch=E} or {@code ?step=N}, the last kept
 * at or before N), and the page, with the step slider in the past, decodes with them and says
 * which; a run that keeps only its latest checkpoint is decoded with the current weights, and the
 * page says that.
 */
@Timeout(300)
class PageDecodeHistoryTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static JsonObject kept;
  static JsonObject latestOnly;

  /** 512 synthetic images in batches of 32: an epoch ends every 16 steps. */
  static final int STEPS_PER_EPOCH = 16;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    kept =
        server.startJob(
            server
                .spec(3, 4)
                .put("latent", 20)
                .put("name", "kept")
                .put("keepEpochCheckpoints", true));
    latestOnly = server.startJob(server.spec(2, 4).put("latent", 20).put("name", "latest"));
    TestServer.awaitStatus(server, kept.getString("id"), "completed", 200);
    TestServer.awaitStatus(server, latestOnly.getString("id"), "completed", 200);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  private static TestServer.Response weights(JsonObject job, String query) throws Exception {
    return server.request(
        HttpMethod.GET,
        "/api/jobs/" + job.getString("id") + "/model.safetensors?part=decoder" + query,
        TestServer.TOKEN,
        null);
  }

  private static String message(TestServer.Response r) {
    return r.json().getJsonObject("error").getString("message");
  }

  @Test
  void eachKeptEpochIsServedByEpochOrByStep() throws Exception {
    for (int epoch = 1; epoch <= 3; epoch++) {
      TestServer.Response r = weights(kept, "&epoch=" + epoch);
      assertEquals(200, r.status(), r.body().toString());
      assertEquals(String.valueOf(epoch), r.headers().firstValue("X-Epoch").orElseThrow());
      assertEquals(
          String.valueOf(epoch * STEPS_PER_EPOCH), r.headers().firstValue("X-Step").orElseThrow());
    }
    // The last kept at or before the step.
    TestServer.Response r = weights(kept, "&step=" + (2 * STEPS_PER_EPOCH + 5));
    assertEquals(200, r.status(), r.body().toString());
    assertEquals("2", r.headers().firstValue("X-Epoch").orElseThrow());
    assertEquals(
        "1", weights(kept, "&step=" + STEPS_PER_EPOCH).headers().firstValue("X-Epoch").get());
    // Two epochs' weights differ.
    assertTrue(
        !weights(kept, "&epoch=1").body().equals(weights(kept, "&epoch=3").body()),
        "epochs 1 and 3 have the same weights");

    r = weights(kept, "&step=" + (STEPS_PER_EPOCH - 1));
    assertEquals(404, r.status());
    assertEquals(
        "job "
            + kept.getString("id")
            + " kept no checkpoint at or before step 15 (it kept epochs 1 at step 16, 2 at step 32,"
            + " 3 at step 48)",
        message(r));
    r = weights(kept, "&epoch=7");
    assertEquals(404, r.status());
    assertTrue(message(r).contains("kept no checkpoint at the end of epoch 7"), message(r));
    r = weights(latestOnly, "&step=20");
    assertEquals(404, r.status());
    assertTrue(
        message(r)
            .endsWith(
                "(it keeps only its latest: start it with \"keepEpochCheckpoints\": true to keep each epoch's)"),
        message(r));
  }

  @Test
  void badEpochsAndStepsAreRefusedWithAMessage() throws Exception {
    for (String query : List.of("&epoch=1&step=3", "&epoch=0", "&epoch=x", "&step=-1")) {
      TestServer.Response r = weights(kept, query);
      assertEquals(400, r.status(), query);
      assertTrue(
          message(r).contains("\"epoch\"") || message(r).contains("\"step\""),
          query + ": " + message(r));
    }
    TestServer.Response r =
        server.request(
            HttpMethod.POST,
            "/api/jobs",
            TestServer.TOKEN,
            new JsonObject()
                .put("spec", server.spec(1, 4).put("keepEpochCheckpoints", "yes"))
                .encode());
    assertEquals(400, r.status());
    assertTrue(message(r).contains("keepEpochCheckpoints"), message(r));
  }

  /** Moves the slider to {@code step}, hovers a point and returns the caption. */
  private static String hoverAtStep(Page page, int step, int i) {
    page.evaluate(
        "s => { const e = document.getElementById('step-slider'); e.value = s; e.dispatchEvent(new Event('input')); }",
        step);
    page.waitForFunction("() => window.latentstream.state.live === false");
    return (String)
        page.evaluate(
            "async i => { const o = document.getElementById('latent-overlay'); const r = o.getBoundingClientRect();"
                + " const before = document.getElementById('hover-z').textContent;"
                + " o.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * (0.3 + 0.05 * i),"
                + "   clientY: r.top + r.height * 0.4, bubbles: true }));"
                + " for (let k = 0; k < 1000 && document.getElementById('hover-z').textContent === before; k++)"
                + "   await new Promise(d => setTimeout(d, 10));"
                + " return document.getElementById('hover-z').textContent; }",
            i);
  }

  private static void select(Page page, int num) {
    page.waitForFunction("n => window.latentstream.state.jobs.has(n)", num);
    page.click("#runs li:has-text('#" + num + "')");
    page.waitForFunction(
        "n => window.latentstream.state.selected === n && window.latentstream.state.plane != null",
        num);
  }

  @Test
  void aPastStepIsDecodedWithTheWeightsOfItsEpoch() {
    try (var w =
        chromium.open(
            "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN, 1280, 1000)) {
      Page page = w.page();
      select(page, kept.getInteger("num"));
      String caption = hoverAtStep(page, 2 * STEPS_PER_EPOCH + 8, 0);
      assertTrue(
          caption.endsWith("in your browser, weights from the end of epoch 2 (step 32)"), caption);
      // The image is epoch 2's decode of that point (decoder.js on epoch 2's file), not the current
      // one's.
      Object same =
          page.evaluate(
              "async () => { const d = await import('/src/decoder.js');"
                  + " const ls = window.latentstream; const [x0, x1, y0, y1] = ls.state.plane;"
                  + " const p = [x0 * 0.5, y1 * 0.5];"
                  + " const shown = await ls.decodeLocally(p);"
                  + " const get = async q => { const r = await fetch('/api/jobs/' + ls.state.selectedId"
                  + "   + '/model.safetensors?part=decoder&' + q, { headers: { Authorization: 'Bearer "
                  + TestServer.TOKEN
                  + "' } }); return d.mlpDecoder(d.parseSafetensors(await r.arrayBuffer())); };"
                  + " const plane = ls.explorer.local.plane; const z = d.planeToCode(plane, p);"
                  + " const url = m => { const x = m.decode(z); return d.toDataUrl(x, m.width, m.height); };"
                  + " return [shown === url(await get('epoch=2')), shown === url(await get('epoch=3'))]; }");
      assertEquals(List.of(true, false), same);
      // Back to live: the current weights again.
      page.click("#live");
      page.waitForFunction("() => window.latentstream.state.live === true");
      String live =
          (String)
              page.evaluate(
                  "async () => { const o = document.getElementById('latent-overlay'); const r = o.getBoundingClientRect();"
                      + " o.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + r.width * 0.7,"
                      + "   clientY: r.top + r.height * 0.6, bubbles: true }));"
                      + " for (let k = 0; k < 1000 && !/weights from step/.test(document.getElementById('hover-z').textContent); k++)"
                      + "   await new Promise(d => setTimeout(d, 10));"
                      + " return document.getElementById('hover-z').textContent; }");
      assertTrue(live.endsWith("in your browser, weights from step 48"), live);
      assertEquals(List.of(), w.errors());
    }
  }

  @Test
  void aRunThatKeptNoEpochsIsDecodedWithTheCurrentWeightsAndThePageSaysSo() {
    try (var w =
        chromium.open(
            "http://127.0.0.1:" + server.port() + "/?token=" + TestServer.TOKEN, 1280, 1000)) {
      Page page = w.page();
      select(page, latestOnly.getInteger("num"));
      String caption = hoverAtStep(page, 20, 0);
      assertTrue(
          caption.contains(
              "in your browser, from the current weights (step 32): job "
                  + latestOnly.getString("id")
                  + " kept no checkpoint at or before step 20 (it keeps only its latest"),
          caption);
      // The expected 404 of the past weights is the browser's only console line.
      assertEquals(
          List.of(),
          w.errors().stream().filter(e -> !e.startsWith("Failed to load resource")).toList());
    }
  }
}
