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
 * page says that. Above two latent dimensions each frame has its own plane: a past step's hovers
 * are read and decoded on the plane of the latent frame shown there (its {@code X-Plane}).
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
  void aKeptLatentFrameCarriesThePlaneItWasMadeOn() throws Exception {
    String frames = "/api/jobs/" + kept.getString("id") + "/frames/";
    TestServer.Response r =
        server.request(HttpMethod.GET, frames + "latent.png?step=40", null, null);
    assertEquals(200, r.status());
    JsonObject plane = new JsonObject(r.headers().firstValue("X-Plane").orElseThrow());
    assertTrue(plane.getLong("step") <= 40, plane.encode());
    assertEquals(4, plane.getJsonArray("range").size());
    assertEquals(20, plane.getJsonArray("origin").size());
    assertEquals(20, plane.getJsonArray("axes").getJsonArray(1).size());
    assertTrue(
        !plane.equals(
            new JsonObject(
                server
                    .request(HttpMethod.GET, frames + "latent.png", null, null)
                    .headers()
                    .firstValue("X-Plane")
                    .orElseThrow())),
        "the plane moved between step 40 and the end");
    assertTrue(
        server
            .request(HttpMethod.GET, frames + "recon.png?step=40", null, null)
            .headers()
            .firstValue("X-Plane")
            .isEmpty());
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
    return ExplorerPage.hover(page, 0.3 + 0.05 * i, 0.4);
  }

  @Test
  void aPastStepIsDecodedWithTheWeightsOfItsEpoch() {
    try (var w = ExplorerPage.open(chromium, server, null)) {
      Page page = w.page();
      ExplorerPage.select(page, kept.getInteger("num"));
      String caption = hoverAtStep(page, 2 * STEPS_PER_EPOCH + 8, 0);
      assertTrue(
          caption.endsWith("in your browser, weights from the end of epoch 2 (step 32)"), caption);
      // The image is epoch 2's decode of that point on the plane of the latent frame shown at that
      // step (decoder.js on epoch 2's file and the frame's X-Plane), not epoch 3's, and not on the
      // current plane: with 20 latent dimensions each frame has its own.
      Object same =
          page.evaluate(
              "async step => { const d = await import('/src/decoder.js'); const ls = window.latentstream;"
                  + " const frame = await fetch('/api/jobs/' + ls.state.selectedId + '/frames/latent.png?step=' + step);"
                  + " const past = JSON.parse(frame.headers.get('X-Plane'));"
                  + " for (let k = 0; k < 1000 && !ls.explorer.local.pastPlane; k++) await new Promise(r => setTimeout(r, 10));"
                  + " const [x0, x1, y0, y1] = ls.state.plane; const p = [x0 * 0.5, y1 * 0.5];"
                  + " while (ls.explorer.decodeBusy) await new Promise(r => setTimeout(r, 10));"
                  + " await ls.explorer.decodeAt(p);"
                  + " const c = document.getElementById('hover-decode');"
                  + " const shown = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                  + " const get = async q => { const r = await fetch('/api/jobs/' + ls.state.selectedId"
                  + "   + '/model.safetensors?part=decoder&' + q, { headers: { Authorization: 'Bearer "
                  + TestServer.TOKEN
                  + "' } }); return d.mlpDecoder(d.parseSafetensors(await r.arrayBuffer())); };"
                  + " const [e2, e3] = [await get('epoch=2'), await get('epoch=3')];"
                  + " const same = (m, plane) => { const x = d.grayImageData(m.decode(d.planeToCode(plane, p)), m.width, m.height).data;"
                  + "   return x.length === shown.length && x.every((v, i) => v === shown[i]); };"
                  + " return [JSON.stringify(ls.state.plane) === JSON.stringify(past.range), same(e2, past), same(e3, past),"
                  + "   same(e2, ls.explorer.local.plane)]; }",
              2 * STEPS_PER_EPOCH + 8);
      assertEquals(List.of(true, true, false, false), same);
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
    try (var w = ExplorerPage.open(chromium, server, null)) {
      Page page = w.page();
      ExplorerPage.select(page, latestOnly.getInteger("num"));
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
