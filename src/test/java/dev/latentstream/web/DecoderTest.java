package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * web/src/decoder.js in a real browser, with no server: its safetensors parser and MLP decoder on
 * files built in the page. A file the page cannot run throws an Error that says what is wrong (the
 * page then decodes on the server, PageDecodeFallbackTest); a good one decodes as the maths says.
 */
@Timeout(120)
class DecoderTest {

  static Chromium chromium;
  static BrowserContext context;
  static Page page;

  /**
   * The page's modules, served from web/ under a made-up origin, and {@code file(tensors, meta,
   * edit)}: a safetensors file of F32 tensors ({name: {shape, values}}) whose header {@code edit}
   * may change before it is written.
   */
  static final String HARNESS =
      "<!doctype html><script type=module>"
          + "import * as decoder from '/src/decoder.js'; window.decoder = decoder;"
          + "window.file = (tensors, meta, edit = h => h) => {"
          + "  const header = { __metadata__: meta }; let at = 0; const parts = [];"
          + "  for (const [name, t] of Object.entries(tensors)) { const f = Float32Array.from(t.values);"
          + "    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + f.byteLength] }; at += f.byteLength; parts.push(f); }"
          + "  const h = new TextEncoder().encode(JSON.stringify(edit(header)));"
          + "  const buf = new ArrayBuffer(8 + h.length + at); new DataView(buf).setBigUint64(0, BigInt(h.length), true);"
          + "  new Uint8Array(buf, 8).set(h); let p = 8 + h.length;"
          + "  for (const f of parts) { new Uint8Array(buf, p).set(new Uint8Array(f.buffer)); p += f.byteLength; }"
          + "  return buf; };"
          // A 2 -> 3 (relu) -> 4 (sigmoid) decoder of 2x2 images.
          + "window.tiny = (edit) => file({"
          + "  'decoder.linear0.weight': { shape: [3, 2], values: [1, -1, 0.5, 2, -3, 0.25] },"
          + "  'decoder.linear0.bias': { shape: [3], values: [0.1, -0.2, 0.3] },"
          + "  'decoder.linear1.weight': { shape: [4, 3], values: [1, 0, -1, 0.5, 0.5, 0.5, -2, 1, 0, 0, 0, 1] },"
          + "  'decoder.linear1.bias': { shape: [4], values: [0, 0.1, -0.1, 0.2] } },"
          + "  { model: 'vae', spec: JSON.stringify({ model: 'vae', activation: 'relu' }), step: '42', height: '2', width: '2' }, edit);"
          + "window.failure = f => { try { f(); return 'no error'; } catch (e) { return e.message; } };"
          + "window.ready = true;</script>";

  @BeforeAll
  static void open() {
    chromium = new Chromium();
    context = chromium.browser.newContext();
    page = harness(context);
  }

  /**
   * A page of {@code context} on {@link #HARNESS}, the page's modules served from web/ under a
   * made-up origin (no server), once {@code decoder} and the helpers are defined.
   */
  static Page harness(BrowserContext context) {
    context.route(
        "http://decoder.test/**",
        route -> {
          String path = route.request().url().substring("http://decoder.test".length());
          if (path.equals("/harness.html")) {
            route.fulfill(new Route.FulfillOptions().setContentType("text/html").setBody(HARNESS));
            return;
          }
          Path file = Path.of("web").resolve(path.substring(1)).normalize();
          if (!file.startsWith(Path.of("web")) || !Files.isRegularFile(file)) {
            route.fulfill(new Route.FulfillOptions().setStatus(404));
            return;
          }
          route.fulfill(new Route.FulfillOptions().setContentType("text/javascript").setPath(file));
        });
    Page page = context.newPage();
    page.navigate("http://decoder.test/harness.html");
    page.waitForFunction("() => window.ready === true");
    return page;
  }

  @AfterAll
  static void close() {
    context.close();
    chromium.close();
  }

  private static String failure(String js) {
    return (String) page.evaluate("() => failure(() => " + js + ")");
  }

  @Test
  void aGoodFileDecodesAsTheMathSays() {
    @SuppressWarnings("unchecked")
    List<Number> got =
        (List<Number>)
            page.evaluate(
                "() => { const d = decoder.mlpDecoder(decoder.parseSafetensors(tiny()));"
                    + " return [d.latent, d.step, d.height, d.width, ...d.decode([0.5, -1.5])]; }");
    // By hand: h = relu(W0 z + b0), x = sigmoid(W1 h + b1).
    double[] z = {0.5, -1.5};
    double[][] w0 = {{1, -1}, {0.5, 2}, {-3, 0.25}};
    double[] b0 = {0.1, -0.2, 0.3};
    double[][] w1 = {{1, 0, -1}, {0.5, 0.5, 0.5}, {-2, 1, 0}, {0, 0, 1}};
    double[] b1 = {0, 0.1, -0.1, 0.2};
    double[] h = new double[3];
    for (int o = 0; o < 3; o++) {
      h[o] = Math.max(0, b0[o] + w0[o][0] * z[0] + w0[o][1] * z[1]);
    }
    double[] want = new double[4];
    for (int o = 0; o < 4; o++) {
      double s = b1[o];
      for (int i = 0; i < 3; i++) {
        s += w1[o][i] * h[i];
      }
      want[o] = 1 / (1 + Math.exp(-s));
    }
    assertEquals(List.of(2, 42, 2, 2), got.subList(0, 4).stream().map(Number::intValue).toList());
    assertArrayEquals(
        want, got.subList(4, 8).stream().mapToDouble(Number::doubleValue).toArray(), 1e-6);
  }

  @Test
  void aFileShorterThanItsHeaderLengthIsRejected() {
    assertEquals(
        "not a safetensors file: 5 bytes, shorter than its 8-byte header length",
        failure("decoder.parseSafetensors(new ArrayBuffer(5))"));
  }

  @Test
  void aHeaderLengthBeyondTheFileIsRejected() {
    String message =
        failure(
            "{ const b = tiny(); new DataView(b).setBigUint64(0, BigInt(b.byteLength), true);"
                + " return decoder.parseSafetensors(b); }");
    assertTrue(message.contains("runs past the end of the file"), message);
  }

  @Test
  void aHeaderThatIsNotJsonIsRejected() {
    String message =
        failure(
            "{ const b = tiny(); new Uint8Array(b)[8] = 0x7b + 1; return decoder.parseSafetensors(b); }");
    assertTrue(message.startsWith("not a safetensors file: its header is not JSON"), message);
  }

  @Test
  void aDtypeOtherThanF32IsRejected() {
    for (String dtype : List.of("F16", "BF16", "F64", "I32")) {
      assertEquals(
          "decoder.linear0.weight: dtype " + dtype + ", only F32 is decoded in the page",
          failure(
              "decoder.parseSafetensors(tiny(h => { h['decoder.linear0.weight'].dtype = '"
                  + dtype
                  + "'; return h; }))"));
    }
  }

  @Test
  void offsetsThatDoNotFitTheShapeAreRejected() {
    assertEquals(
        "decoder.linear0.bias: data_offsets [24, 36] do not fit its shape [4] (16 bytes)",
        failure(
            "decoder.parseSafetensors(tiny(h => { h['decoder.linear0.bias'].shape = [4]; return h; }))"));
    String message =
        failure(
            "decoder.parseSafetensors(tiny(h => { h['decoder.linear0.bias'].data_offsets = [-4, 8]; return h; }))");
    assertTrue(message.contains("do not fit its shape"), message);
    message =
        failure(
            "decoder.parseSafetensors(tiny(h => { h['decoder.linear1.bias'].data_offsets = [200, 216]; return h; }))");
    assertTrue(message.contains("runs past the end of the file"), message);
  }

  @Test
  void everyTruncationOfAGoodFileIsRejected() {
    // Cut anywhere, a file never parses into wrong numbers: each cut gives an error.
    Object parsed =
        page.evaluate(
            "() => { const b = tiny(); const wrong = [];"
                + " for (let n = 0; n < b.byteLength; n++) {"
                + "   try { decoder.mlpDecoder(decoder.parseSafetensors(b.slice(0, n))); wrong.push(n); }"
                + "   catch (e) { if (!(e instanceof Error) || !e.message) wrong.push(n); } }"
                + " return wrong; }");
    assertEquals(List.of(), parsed);
    String message = failure("decoder.parseSafetensors(tiny().slice(0, -4))");
    assertTrue(message.endsWith("the file is truncated"), message);
  }

  @Test
  void layersWhoseShapesDoNotChainAreRejected() {
    assertEquals(
        "decoder.linear1.weight: takes 4 inputs, the layer before gives 3",
        failure(
            "decoder.mlpDecoder(decoder.parseSafetensors(tiny(h => {"
                + " h['decoder.linear1.weight'].shape = [3, 4]; return h; })))"));
    assertEquals(
        "the last layer gives 4 pixels, the metadata says 3x3",
        failure(
            "decoder.mlpDecoder(decoder.parseSafetensors(tiny(h => {"
                + " h.__metadata__.height = '3'; h.__metadata__.width = '3'; return h; })))"));
  }

  @Test
  void aConvDecoderIsLeftToTheServer() {
    assertEquals(
        "conv-vae decoders run on the server",
        failure(
            "decoder.mlpDecoder(decoder.parseSafetensors(tiny(h => {"
                + " h.__metadata__.model = 'conv-vae'; return h; })))"));
  }
}
