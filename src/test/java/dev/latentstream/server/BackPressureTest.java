package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A reader that stops reading is conflated, then disconnected; nobody else notices. */
@Timeout(180)
class BackPressureTest {

  @Test
  void aStalledReaderIsConflatedThenDisconnectedWhileAFastClientAndTrainingCarryOn(@TempDir Path root) throws Exception {
    JsonObject limits = new JsonObject().put("writeQueueBytes", 16384).put("slowClientTimeoutMs", 2000);
    try (TestServer server = new TestServer(root, limits)) {
      JsonObject job = server.startJob(server.spec(200, 1));
      String id = job.getString("id");
      JsonObject subscribe = new JsonObject().put("type", "subscribe").put("job", id);
      try (TestServer.Client slow = server.connect(null, null); TestServer.Client fast = server.connect(null, null)) {
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
        assertTrue(stats.getLong("framesConflated") > 0, "frames were conflated first: " + stats.encode());
        assertEquals(1, stats.getLong("slowClientsClosed"));
        long stepAtDisconnect = steps(server, id);
        assertTrue(stepAtDisconnect > stepAtStall, "training went on while the client stalled");

        fast.received.clear();
        Buffer after = fast.nextFrame(0, 20);
        assertTrue(after.getLong(8) >= stepAtDisconnect - 1, "the fast client still gets live frames");

        slow.ws.resume();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (slow.closeCode == null && System.nanoTime() < end) {
          slow.received.clear();
          Thread.sleep(50);
        }
        assertEquals((short) 1008, slow.closeCode);
        assertTrue(slow.closeReason.startsWith("too slow"), slow.closeReason);
      } finally {
        server.request(HttpMethod.POST, "/api/jobs/" + id + "/stop", TestServer.TOKEN, null);
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
