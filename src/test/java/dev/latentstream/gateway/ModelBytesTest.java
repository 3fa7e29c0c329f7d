package dev.latentstream.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@link ModelBytes}: one read per version, the same bytes to every request, bounded. */
class ModelBytesTest {

  private final ModelBytes held = new ModelBytes();

  private static Supplier<Future<Buffer>> bytes(String content) {
    return () -> Future.succeededFuture(Buffer.buffer(content));
  }

  @Test
  void manyRequestsForOneVersionReadItOnceAndGetTheSameBuffer() throws Exception {
    Promise<Buffer> reading = Promise.promise();
    List<Future<Buffer>> asked = new ArrayList<>();
    // Forty requests from eight threads while the read is under way, as from every event loop.
    ExecutorService loops = Executors.newFixedThreadPool(8);
    List<java.util.concurrent.Future<Future<Buffer>>> calls = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      calls.add(loops.submit(() -> held.get("run/decoder-32.safetensors@1300", reading::future)));
    }
    for (var c : calls) {
      asked.add(c.get(10, TimeUnit.SECONDS));
    }
    loops.shutdown();
    Buffer file = Buffer.buffer("the decoder of step 32");
    reading.complete(file);
    // And forty more once it is in.
    for (int i = 0; i < 40; i++) {
      asked.add(held.get("run/decoder-32.safetensors@1300", bytes("read again")));
    }
    assertEquals(1, held.reads(), "one read for 80 requests");
    for (Future<Buffer> f : asked) {
      assertSame(file, f.result(), "the very same buffer");
    }
    assertEquals(file.length(), held.bytes());

    Buffer next = held.get("run/decoder-48.safetensors@1300", bytes("step 48")).result();
    assertEquals(2, held.reads(), "a new step is read");
    assertEquals("step 48", next.toString());
    assertNotSame(file, next);
    assertSame(file, held.get("run/decoder-32.safetensors@1300", bytes("x")).result());
    assertEquals(2, held.reads(), "the older step is still held for downloads under way");
  }

  @Test
  void aFailedOrMissingReadIsNotKept() {
    Future<Buffer> failed =
        held.get("v", () -> Future.failedFuture(new IllegalStateException("relay down")));
    assertTrue(failed.failed());
    assertNull(held.get("v", () -> Future.succeededFuture(null)).result(), "no such file");
    assertEquals("here", held.get("v", bytes("here")).result().toString());
    assertEquals(3, held.reads(), "each try read again until one found the file");
    assertEquals(1, held.size());
  }

  @Test
  void theLeastRecentlyUsedGoOverTheBounds() {
    for (int i = 0; i < ModelBytes.MAX_ENTRIES + 4; i++) {
      held.get("v" + i, bytes("step " + i));
      held.get("v0", bytes("again")); // v0 stays in use
    }
    assertEquals(ModelBytes.MAX_ENTRIES, held.size());
    assertEquals("step 0", held.get("v0", bytes("again")).result().toString());
    long reads = held.reads();
    held.get("v1", bytes("read again"));
    assertEquals(reads + 1, held.reads(), "v1 was evicted");

    int big = (int) (ModelBytes.MAX_BYTES / 2 + 1);
    held.get("big1", () -> Future.succeededFuture(Buffer.buffer(new byte[big])));
    held.get("big2", () -> Future.succeededFuture(Buffer.buffer(new byte[big])));
    assertTrue(held.bytes() <= ModelBytes.MAX_BYTES, held.bytes() + " bytes held");
    assertEquals(big, held.get("big2", bytes("x")).result().length(), "the newest stays");
  }
}
