package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the page cannot decode a run itself it falls back to the server, and the hover caption says
 * so and why: a conv VAE (its weights are not even fetched), a weights download that fails, a
 * weights file the page's parser refuses. A failed download is tried again and local decoding
 * resumes once it succeeds.
 */
@Timeout(300)
class PageDecodeFallbackTest {

  @TempDir static Path root;
  static TestServer server;
  static Chromium chromium;
  static int conv;
  static int mlp;

  /** Counts the decode requests the page sends on its sockets. */
  static final String COUNT_DECODES =
      "window.decodesSent = 0; const send = WebSocket.prototype.send;"
          + " WebSocket.prototype.send = function (m) {"
          + " if (typeof m === 'string' && JSON.parse(m).type === 'decode') window.decodesSent++;"
          + " return send.call(this, m); };";

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    JsonObject convJob =
        server.startJob(
            server
                .spec(1, 4)
                .put("name", "conv")
                .put("model", "conv-vae")
                .put(
                    "conv",
                    new JsonObject()
                        .put("channels", new JsonArray().add(4).add(8).add(8))
                        .put("dense", 16)));
    JsonObject mlpJob = server.startJob(server.spec(1, 4).put("name", "mlp"));
    conv = convJob.getInteger("num");
    mlp = mlpJob.getInteger("num");
    TestServer.awaitStatus(server, convJob.getString("id"), "completed", 180);
    TestServer.awaitStatus(server, mlpJob.getString("id"), "completed", 180);
    chromium = new Chromium();
  }

  @AfterAll
  static void stop() throws Exception {
    chromium.close();
    server.close();
  }

  private Chromium.Watched open() {
    return ExplorerPage.open(chromium, server, COUNT_DECODES);
  }

  /** Hovers plane point number {@code i} (each a different one) and returns the caption it gets. */
  private static String hover(Page page, int i) {
    return ExplorerPage.hover(page, 0.2 + 0.03 * (i % 20), 0.3 + 0.02 * (i / 20));
  }

  /** Console errors other than the browser's own line for a download the test made fail. */
  private static List<String> errors(Chromium.Watched w) {
    return w.errors().stream().filter(e -> !e.startsWith("Failed to load resource")).toList();
  }

  @Test
  void aConvVaeIsDecodedOnTheServerAndThePageSaysSo() throws Exception {
    try (var w = open()) {
      Page page = w.page();
      List<String> weights = new CopyOnWriteArrayList<>();
      page.onRequest(
          r -> {
            if (r.url().contains("model.safetensors")) {
              weights.add(r.url());
            }
          });
      ExplorerPage.select(page, conv);
      long decodesBefore = server.modelRequests("decode");
      String caption = hover(page, 0);
      assertTrue(
          caption.endsWith(
              "on the server (the page decodes only MLP decoders; this run is a conv-vae)"),
          caption);
      assertEquals(
          "1", page.getAttribute("#hover-decode", "data-painted"), "the server's image is shown");
      assertEquals(1, ((Number) page.evaluate("() => window.decodesSent")).intValue());
      assertEquals(decodesBefore + 1, server.modelRequests("decode"), "the server counted it");
      assertEquals(List.of(), weights, "a conv VAE's weights are not fetched");
      assertEquals(List.of(), errors(w));
    }
  }

  @Test
  void aFailedWeightsDownloadFallsBackToTheServerUntilItSucceeds() {
    try (var w = open()) {
      Page page = w.page();
      page.route("**/model.safetensors*", Route::abort);
      ExplorerPage.select(page, mlp);
      String caption = hover(page, 0);
      assertTrue(
          caption.contains("on the server (the weights could not be fetched (Failed to fetch))"),
          caption);
      assertEquals(1, ((Number) page.evaluate("() => window.decodesSent")).intValue());
      // The download works again: within the 10 s between tries the page decodes locally.
      page.unroute("**/model.safetensors*");
      long until = System.currentTimeMillis() + 30_000;
      for (int i = 1;
          !caption.contains("in your browser") && System.currentTimeMillis() < until;
          i++) {
        page.waitForTimeout(500);
        caption = hover(page, i);
      }
      assertTrue(caption.contains("in your browser, weights from step"), caption);
      assertEquals(List.of(), errors(w));
    }
  }

  @Test
  void aWeightsFileThePageCannotReadFallsBackToTheServerAndSaysWhy() {
    try (var w = open()) {
      Page page = w.page();
      // The server's own file with its last tensor cut short.
      page.route(
          "**/model.safetensors*",
          route -> {
            var real = route.fetch();
            byte[] body = real.body();
            route.fulfill(
                new Route.FulfillOptions()
                    .setResponse(real)
                    .setBodyBytes(Arrays.copyOf(body, body.length - 100)));
          });
      ExplorerPage.select(page, mlp);
      String caption = hover(page, 0);
      assertTrue(
          caption.contains(
              "on the server (the weights file cannot be decoded in the page: decoder.linear1.bias: its data"),
          caption);
      assertTrue(caption.endsWith("the file is truncated)"), caption);
      assertEquals(List.of(), errors(w));
    }
  }
}
