package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.wire.FrameKind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A reader that stops reading is conflated, then disconnected; nobody else notices. */
@Timeout(180)
class BackPressureTest {

  @Test
  void aStalledReaderIsConflatedThenDisconnectedWhileAFastClientAndTrainingCarryOn(
      @TempDir Path root) throws Exception {
    // Long enough that frames arrive for the stalled client (and are conflated) before it is given
    // up on, even
    // when a loaded machine trains slowly.
    JsonObject limits =
        new JsonObject().put("writeQueueBytes", 16384).put("slowClientTimeoutMs", 5000);
    try (TestServer server = new TestServer(root, limits)) {
      JsonObject job = server.startJob(server.spec(200, 1));
      String id = job.getString("id");
      JsonObject subscribe = new JsonObject().put("type", "subscribe").put("job", id);
      // The stalled reader gets a small receive buffer, as its sibling test's does: with the
      // system's default
      // (megabytes) the stall backs up into the server only after the buffer fills, most of the
      // deadline later.
      try (TestServer.Client slow =
              server.connect(
                  null,
                  null,
                  new io.vertx.core.http.WebSocketClientOptions().setReceiveBufferSize(4096));
          TestServer.Client fast = server.connect(null, null)) {
        slow.send(subscribe);
        fast.send(subscribe);
        slow.nextFrame(0, 30);
        slow.ws.pause();
        long stepAtStall = steps(server, id);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (clients(server) > 1 && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        assertEquals(1, clients(server), "the stalled client was disconnected");
        JsonObject stats = server.request(HttpMethod.GET, "/api/info", null, null).json();
        assertTrue(
            stats.getLong("framesConflated") > 0, "frames were conflated first: " + stats.encode());
        assertEquals(1, stats.getLong("slowClientsClosed"));
        long stepAtDisconnect = steps(server, id);
        assertTrue(stepAtDisconnect > stepAtStall, "training went on while the client stalled");

        fast.received.clear();
        Buffer after = fast.nextFrame(0, 20);
        assertTrue(
            after.getLong(8) >= stepAtDisconnect - 1, "the fast client still gets live frames");

        slow.ws.resume();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (slow.closeCode == null && System.nanoTime() < end) {
          slow.received.clear();
          Thread.sleep(50);
        }
        assertEquals((short) 1008, slow.closeCode);
        assertTrue(slow.closeReason.startsWith("too slow"), slow.closeReason);
      } finally {
        server.stopJob(id);
      }
    }
  }

  @Test
  void aClientStalledForLessThanTheTimeoutGetsTheNewestFrameOfEachStreamAndEveryLossStepAfterwards(
      @TempDir Path root) throws Exception {
    JsonObject limits =
        new JsonObject().put("writeQueueBytes", 65536).put("slowClientTimeoutMs", 20000);
    try (TestServer server = new TestServer(root, limits)) {
      JsonObject job = server.startJob(server.spec(100_000, 4));
      String id = job.getString("id");
      // A small receive buffer, so that a stall backs up into the server within the stall.
      try (TestServer.Client c =
          server.connect(
              null,
              null,
              new io.vertx.core.http.WebSocketClientOptions().setReceiveBufferSize(4096))) {
        c.send(new JsonObject().put("type", "subscribe").put("job", id));
        c.nextFrame(0, 60);
        c.ws.pause();
        long stallStep = steps(server, id);
        // The stall itself (not a wait for anything): a few seconds, well inside
        // slowClientTimeoutMs.
        Thread.sleep(3000);
        long stepAfterStall = steps(server, id);
        c.ws.resume();
        server.stopJob(id);
        TestServer.awaitStatus(server, id, "stopped", 30);
        long last = steps(server, id);
        assertTrue(
            last > stallStep && stepAfterStall > stallStep, "training went on during the stall");
        JsonObject kept =
            server.request(HttpMethod.GET, "/api/jobs/" + id + "/frames", null, null).json();
        Map<Integer, Long> newest = new HashMap<>();
        for (FrameKind kind : FrameKind.values()) {
          JsonArray steps = kept.getJsonArray(kind.wireName());
          newest.put(kind.code(), steps.getLong(steps.size() - 1));
        }
        // Every message in order: history and loss until the last step, and the newest frame of
        // each kind.
        List<Long> lossSteps = new ArrayList<>();
        Map<Integer, Long> seen = new HashMap<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (lossSteps.isEmpty() || lossSteps.getLast() < last || !seen.equals(newest)) {
          assertTrue(
              System.nanoTime() < end,
              "drained within 60 s: loss to "
                  + (lossSteps.isEmpty() ? "-" : lossSteps.getLast())
                  + " of "
                  + last
                  + ", frames "
                  + seen
                  + " of "
                  + newest);
          assertEquals(null, c.closeCode, "still connected");
          Object o = c.received.poll(100, TimeUnit.MILLISECONDS);
          if (o instanceof Buffer b) {
            seen.put((int) b.getByte(1), b.getLong(8));
          } else if (o instanceof JsonObject j
              && List.of("history", "loss").contains(j.getString("type"))) {
            j.getJsonObject("columns")
                .getJsonArray("step")
                .forEach(v -> lossSteps.add(((Number) v).longValue()));
          }
        }
        assertEquals(1L, lossSteps.getFirst());
        for (int i = 1; i < lossSteps.size(); i++) {
          assertEquals(
              lossSteps.get(i - 1) + 1, lossSteps.get(i), "no gap or repeat in the loss steps");
        }
        assertEquals(
            0,
            server
                .request(HttpMethod.GET, "/api/info", null, null)
                .json()
                .getLong("slowClientsClosed"));
      }
    }
  }

  static int clients(TestServer s) throws Exception {
    return s.request(HttpMethod.GET, "/api/info", null, null).json().getInteger("clients");
  }

  static long steps(TestServer s, String id) throws Exception {
    return s.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json().getLong("step");
  }
}
