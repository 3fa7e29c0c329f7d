package dev.latentstream.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * web/src/local-decoder.js as a crowd of pages: twelve decoders of one run, the weights' download
 * answered in the page (a tiny decoder file, ETag by step). Their first downloads and their
 * refetches after one epoch end are spread over the spread time instead of landing in one instant,
 * the refetches stay conditional (304), and hovers keep decoding with the weights held while a
 * refetch waits. A decoder that never decoded fetches nothing at an epoch end.
 */
@Timeout(120)
class LocalDecoderTest {

  static Chromium chromium;
  static BrowserContext context;
  static Page page;

  static final int DECODERS = 12;
  static final int SPREAD_MS = 2000;

  @BeforeAll
  static void open() {
    chromium = new Chromium();
    context = chromium.browser.newContext();
    page = DecoderTest.harness(context);
  }

  @AfterAll
  static void close() {
    context.close();
    chromium.close();
  }

  static final String CROWD =
      """
      async ([n, spreadMs]) => {
        const { LocalDecoder } = await import('/src/local-decoder.js');
        sessionStorage.setItem('latentstream-token', 'token');
        const file = tiny(), etag = '"42-decoder"', asked = [];
        let t0 = performance.now();
        window.fetch = async (url, { headers }) => {
          asked.push({ t: performance.now() - t0, etag: headers['If-None-Match'] ?? null });
          if (headers['If-None-Match'] === etag) return new Response(null, { status: 304 });
          return new Response(file.slice(0), { status: 200, headers: { ETag: etag, 'X-Step': '42', 'X-Epoch': '1' } });
        };
        const run = { id: 'r', model: 'vae' };
        const idle = new LocalDecoder({ spreadMs });
        const ds = Array.from({ length: n }, () => new LocalDecoder({ spreadMs }));
        const spread = list => ({ count: list.length, min: Math.min(...list.map(a => a.t)), max: Math.max(...list.map(a => a.t)),
          etags: [...new Set(list.map(a => a.etag))] });
        // All start exploring at once.
        const usable = await Promise.all(ds.map(d => d.usable(run)));
        const first = spread(asked);
        // An epoch ends for all at once, and they keep hovering.
        asked.length = 0;
        t0 = performance.now();
        idle.onEpoch();
        ds.forEach(d => d.onEpoch());
        let decoded = 0, fallbacks = 0;
        while (performance.now() - t0 < spreadMs + 500) {
          for (const images of await Promise.all(ds.map(d => d.decodeCodes(run, [[0.5, -1.5]])))) {
            if (images) { decoded++; images.forEach(b => b.close()); } else fallbacks++;
          }
          await new Promise(r => setTimeout(r, 50));
        }
        return { usable: usable.every(Boolean), first, afterEpoch: spread(asked), decoded, fallbacks };
      }
      """;

  @Test
  void aCrowdsDownloadsAndRefetchesAreSpreadAndConditional() {
    @SuppressWarnings("unchecked")
    Map<String, Object> r =
        (Map<String, Object>) page.evaluate(CROWD, List.of(DECODERS, SPREAD_MS));
    assertEquals(true, r.get("usable"), r.toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> first = (Map<String, Object>) r.get("first");
    @SuppressWarnings("unchecked")
    Map<String, Object> after = (Map<String, Object>) r.get("afterEpoch");
    assertEquals(DECODERS, ((Number) first.get("count")).intValue(), "one download each: " + r);
    assertEquals(Arrays.asList((Object) null), first.get("etags"), "nothing held yet: " + r);
    // Twelve waits drawn evenly from [0, 2000) ms span more than a third of it but for a chance of
    // about 1 in 15,000.
    assertSpread(first);
    assertEquals(
        DECODERS,
        ((Number) after.get("count")).intValue(),
        "one refetch each, none by the decoder that never decoded: " + r);
    assertEquals(List.of("\"42-decoder\""), after.get("etags"), "conditional: " + r);
    assertSpread(after);
    assertEquals(0, ((Number) r.get("fallbacks")).intValue(), r.toString());
    assertTrue(((Number) r.get("decoded")).intValue() >= DECODERS * 10, r.toString());
  }

  private static void assertSpread(Map<String, Object> s) {
    double min = ((Number) s.get("min")).doubleValue();
    double max = ((Number) s.get("max")).doubleValue();
    assertTrue(max - min > SPREAD_MS / 3.0, "spread over " + (max - min) + " ms: " + s);
    assertTrue(max < SPREAD_MS + 1500, "the last one after " + max + " ms: " + s);
  }
}
