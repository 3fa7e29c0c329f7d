package dev.latentstream.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class SplitWorkTest {

  @Test
  void runsEveryChunkExactlyOnceInEveryCallAndTheHelperTakesPart() {
    Set<String> threads = ConcurrentHashMap.newKeySet();
    try (SplitWork work = new SplitWork("split-work-test")) {
      for (int call = 0; call < 2000; call++) {
        int chunks = 1 + call % 40;
        AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
        work.forEach(
            chunks,
            c -> {
              runs.incrementAndGet(c);
              threads.add(Thread.currentThread().getName());
              // long enough for the parked helper to wake and claim some chunks
              long until = System.nanoTime() + 20_000;
              while (System.nanoTime() < until) {
                Thread.onSpinWait();
              }
            });
        for (int c = 0; c < chunks; c++) {
          assertEquals(1, runs.get(c), "chunk " + c + " of call " + call);
        }
      }
    }
    assertTrue(threads.contains("split-work-test"), "the helper ran chunks: " + threads);
  }

  @Test
  void rethrowsAChunksExceptionOnTheCallerAfterTheOtherChunksRan() {
    try (SplitWork work = new SplitWork("split-work-test")) {
      AtomicIntegerArray runs = new AtomicIntegerArray(16);
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  work.forEach(
                      16,
                      c -> {
                        runs.incrementAndGet(c);
                        if (c == 5) {
                          throw new IllegalStateException("chunk 5 failed");
                        }
                      }));
      assertEquals("chunk 5 failed", e.getMessage());
      for (int c = 0; c < 16; c++) {
        assertEquals(1, runs.get(c), "chunk " + c);
      }
      // and the next call works as usual
      AtomicIntegerArray again = new AtomicIntegerArray(8);
      work.forEach(8, again::incrementAndGet);
      for (int c = 0; c < 8; c++) {
        assertEquals(1, again.get(c), "chunk " + c + " of the next call");
      }
    }
  }

  @Test
  void refusesWorkOnceClosed() {
    SplitWork work = new SplitWork("split-work-test");
    work.close();
    assertThrows(IllegalStateException.class, () -> work.forEach(4, c -> {}));
  }
}
