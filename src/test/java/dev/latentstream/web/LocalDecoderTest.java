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
 * answered in the page (a tiny decoder file, ETag by step). Their first downloads are spread over
 * the spread time instead of landing in one instant. Two epoch ends less than {@code REFETCH_MS}
 * after those downloads, while they keep hovering, ask for nothing: each asks again once, at its
 * own mark {@code REFETCH_MS} after its first ask, conditionally (304), and hovers keep decoding
 * with the weights held meanwhile. Twelve more decoders that rested past their mark ask within the
 * spread after an epoch end, not in one instant. A decoder that never decoded fetches nothing. A
 * hover (decoded on the page's main thread) never waits for a refetch: it decodes at once with the
 * weights held; only a slider moved to a past step waits for that step's weights.
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
        const { LocalDecoder, REFETCH_MS } = await import('/src/local-decoder.js');
        sessionStorage.setItem('latentstream-token', 'token');
        const file = tiny(), etag = '"42-decoder"', asked = [];
        const t0 = performance.now(), now = () => performance.now() - t0;
        window.fetch = async (url, { headers }) => {
          asked.push({ id: url.split('/')[3], t: now(), etag: headers['If-None-Match'] ?? null });
          if (headers['If-None-Match'] === etag) return new Response(null, { status: 304 });
          return new Response(file.slice(0), { status: 200, headers: { ETag: etag, 'X-Step': '42', 'X-Epoch': '1' } });
        };
        // Each decoder shows its own run, so that its asks can be told apart.
        const group = name => Array.from({ length: n }, (_, i) => ({ d: new LocalDecoder({ spreadMs }), run: { id: name + i, model: 'vae' } }));
        const idle = new LocalDecoder({ spreadMs }), crowd = group('c'), rested = group('r');
        const of = (list, from = 0) => asked.filter(a => a.t >= from && list.some(e => e.run.id === a.id));
        const spread = list => ({ count: list.length, min: Math.min(...list.map(a => a.t)), max: Math.max(...list.map(a => a.t)),
          etags: [...new Set(list.map(a => a.etag))] });
        let decoded = 0, fallbacks = 0;
        const hover = async list => {
          for (const images of await Promise.all(list.map(e => e.d.decodeCodes(e.run, [[0.5, -1.5]])))) {
            if (images) { decoded++; images.forEach(b => b.close()); } else fallbacks++;
          }
          await new Promise(r => setTimeout(r, 50));
        };
        // All start exploring at once. An epoch ends as soon as all have asked (their workers may take a
        // while to start), and another 3 s later: both within REFETCH_MS of every first ask. The crowd
        // keeps hovering until each has asked twice (or well past its mark); the rested ones do nothing.
        const ready = Promise.all([...crowd, ...rested].map(e => e.d.usable(e.run)));
        while (asked.length < 2 * n && now() < 30_000) await new Promise(r => setTimeout(r, 10));
        const epochs = [now()];
        [idle, ...crowd.map(e => e.d), ...rested.map(e => e.d)].forEach(d => d.onEpoch());
        const usable = await ready;
        const first = spread(of(crowd)), firstRested = spread(of(rested));
        const lastFirst = Math.max(first.max, firstRested.max);
        while (now() < lastFirst + REFETCH_MS + 8000 && crowd.some(e => of([e]).length < 2)) {
          if (epochs.length === 1 && now() - epochs[0] >= 3000) {
            epochs.push(now());
            crowd.forEach(e => e.d.onEpoch());
          }
          await hover(crowd);
        }
        const perDecoder = crowd.map(e => of([e]).map(a => a.t));
        // The rested ones are past their mark: an epoch end, then they hover.
        while (now() < lastFirst + REFETCH_MS + 100) await new Promise(r => setTimeout(r, 50));
        const restedFrom = now();
        rested.forEach(e => e.d.onEpoch());
        while (now() - restedFrom < spreadMs + 500) await hover(rested);
        return { usable: usable.every(Boolean), first, firstRested, epochs, perDecoder,
          refetches: spread(of(crowd, first.max + 1)), restedAfterEpoch: spread(of(rested, restedFrom)),
          all: asked.length, refetchMs: REFETCH_MS,
          decoded, fallbacks };
      }
      """;

  @Test
  @SuppressWarnings("unchecked")
  void epochEndsAskForTheWeightsAtMostOncePerRefetchIntervalAndACrowdsAsksAreSpread() {
    Map<String, Object> r =
        (Map<String, Object>) page.evaluate(CROWD, List.of(DECODERS, SPREAD_MS));
    assertEquals(true, r.get("usable"), r.toString());
    Map<String, Object> first = (Map<String, Object>) r.get("first");
    assertEquals(DECODERS, ((Number) first.get("count")).intValue(), "one download each: " + r);
    assertEquals(Arrays.asList((Object) null), first.get("etags"), "nothing held yet: " + r);
    // Twelve waits drawn evenly from [0, 2000) ms span more than a third of it but for a chance of
    // about 1 in 20,000.
    assertSpread(first);
    assertSpread((Map<String, Object>) r.get("firstRested"));

    double refetchMs = ((Number) r.get("refetchMs")).doubleValue();
    assertEquals(10_000.0, refetchMs, "issue 20: at most every 10 s");
    List<Number> epochs = (List<Number>) r.get("epochs");
    assertEquals(2, epochs.size(), "two epoch ends: " + r);
    for (List<Number> asks : (List<List<Number>>) r.get("perDecoder")) {
      assertEquals(
          2,
          asks.size(),
          "the first download and one ask at the mark, none at either epoch end: "
              + asks
              + " "
              + r);
      double gap = asks.get(1).doubleValue() - asks.get(0).doubleValue();
      assertTrue(gap >= refetchMs - 20, "asked again after " + gap + " ms: " + r);
      assertTrue(
          asks.get(0).doubleValue() + refetchMs > epochs.get(1).doubleValue(),
          "both epoch ends fell within the interval: " + r);
    }
    Map<String, Object> refetches = (Map<String, Object>) r.get("refetches");
    assertEquals(List.of("\"42-decoder\""), refetches.get("etags"), "conditional: " + r);
    Map<String, Object> rested = (Map<String, Object>) r.get("restedAfterEpoch");
    assertEquals(DECODERS, ((Number) rested.get("count")).intValue(), "one ask each: " + r);
    assertEquals(List.of("\"42-decoder\""), rested.get("etags"), "conditional: " + r);
    double from = ((Number) rested.get("min")).doubleValue();
    double to = ((Number) rested.get("max")).doubleValue();
    assertTrue(
        to - from > SPREAD_MS / 3.0, "past the mark, spread over " + (to - from) + " ms: " + r);
    assertEquals(
        4 * DECODERS,
        ((Number) r.get("all")).intValue(),
        "no other asks, none by the decoder that never decoded: " + r);
    assertEquals(0, ((Number) r.get("fallbacks")).intValue(), r.toString());
    assertTrue(((Number) r.get("decoded")).intValue() >= DECODERS * 20, r.toString());
  }

  /**
   * One decoder on its own run, each download answered by the test when it chooses: what a hover
   * (decodeHeld, on this thread) gives before the weights, with them, while a refetch is under way,
   * after it, and after the slider moved to a past step.
   */
  static final String HELD =
      """
      async () => {
        const { LocalDecoder } = await import('/src/local-decoder.js');
        const d = await import('/src/decoder.js');
        sessionStorage.setItem('latentstream-token', 'token');
        const asked = []; let answer = null;
        window.fetch = url => { asked.push(url); return new Promise(r => { answer = r; }); };
        const reply = (step, epoch) => answer(new Response(tiny(), { status: 200,
          headers: { ETag: `"${step}-decoder"`, 'X-Step': String(step), 'X-Epoch': String(epoch) } }));
        const until = async f => { for (let k = 0; k < 500 && !f(); k++) await new Promise(r => setTimeout(r, 10)); };
        const local = new LocalDecoder({ spreadMs: 0 }), run = { id: 'r', model: 'vae' }, p = [0.5, -1.5];
        local.onPlane({ origin: [0, 0], axes: [[1, 0], [0, 1]] });
        const expected = Array.from(d.grayImageData(d.mlpDecoder(d.parseSafetensors(tiny())).decode(p), 2, 2).data);
        const same = image => image != null && Array.from(image.data).every((v, i) => v === expected[i]);
        const out = {};
        out.beforeWeights = local.decodeHeld(run, p);
        await until(() => asked.length === 1);
        reply(16, 1);
        await until(() => local.ready);
        out.held = same(local.decodeHeld(run, p));
        // A refetch due: it starts, the hover does not wait for it.
        local.dueAt = 0;
        out.whileFetching = same(local.decodeHeld(run, p)) && local.fetching != null;
        await until(() => asked.length === 2);
        out.duringDownload = same(local.decodeHeld(run, p)) && local.where();
        reply(32, 2);
        await until(() => local.step === 32);
        out.after = same(local.decodeHeld(run, p)) && local.where();
        // The slider moved: the held weights are not that step's, so the hover waits for them.
        local.atStep(20);
        out.pastBeforeItsWeights = local.decodeHeld(run, p);
        await until(() => asked.length === 3);
        reply(16, 1);
        await until(() => local.heldFor === 20);
        out.past = same(local.decodeHeld(run, p)) && local.where();
        out.asked = asked.map(u => u.split('?')[1]);
        return out;
      }
      """;

  @Test
  @SuppressWarnings("unchecked")
  void aHoverDecodesAtOnceWithTheHeldWeightsWhileARefetchIsUnderWay() {
    Map<String, Object> r = (Map<String, Object>) page.evaluate(HELD);
    assertEquals(null, r.get("beforeWeights"), "no weights yet: " + r);
    assertEquals(true, r.get("held"), r.toString());
    assertEquals(true, r.get("whileFetching"), r.toString());
    assertEquals("in your browser, weights from step 16", r.get("duringDownload"), r.toString());
    assertEquals("in your browser, weights from step 32", r.get("after"), r.toString());
    assertEquals(null, r.get("pastBeforeItsWeights"), "the live weights for a past step: " + r);
    assertEquals(
        "in your browser, weights from the end of epoch 1 (step 16)", r.get("past"), r.toString());
    assertEquals(
        List.of("part=decoder", "part=decoder", "part=decoder&step=20"), r.get("asked"), "" + r);
  }

  private static void assertSpread(Map<String, Object> s) {
    double min = ((Number) s.get("min")).doubleValue();
    double max = ((Number) s.get("max")).doubleValue();
    assertTrue(max - min > SPREAD_MS / 3.0, "spread over " + (max - min) + " ms: " + s);
    assertTrue(max < SPREAD_MS + 1500, "the last one after " + max + " ms: " + s);
  }
}
