package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code maxEgressBytesPerSecond} end to end: viewers share the process's egress equally, so with
 * four of them each gets a quarter of it in frame bytes, and when three leave the one left gets the
 * whole of it.
 */
@Timeout(180)
class EgressTest {

  /**
   * Big enough for several frames a second each (a latent frame's PNG can be 150 KB), small enough
   * to bind.
   */
  static final int EGRESS = 400_000;

  static final double WINDOW_SECONDS = 8;

  /**
   * Frame bytes one client receives over the window (after draining what came before it), and the
   * largest frame.
   */
  record Measured(long bytes, int frames, int largest) {}

  static List<Measured> measure(List<TestServer.Client> clients) throws InterruptedException {
    clients.forEach(c -> c.received.clear());
    long end = System.nanoTime() + (long) (WINDOW_SECONDS * 1e9);
    long[] bytes = new long[clients.size()];
    int[] frames = new int[clients.size()];
    int[] largest = new int[clients.size()];
    while (System.nanoTime() < end) {
      for (int i = 0; i < clients.size(); i++) {
        Object o;
        while ((o = clients.get(i).received.poll()) != null) {
          if (o instanceof Buffer b) {
            bytes[i] += b.length();
            frames[i]++;
            largest[i] = Math.max(largest[i], b.length());
          }
        }
      }
      Thread.sleep(20);
    }
    List<Measured> out = new ArrayList<>();
    for (int i = 0; i < clients.size(); i++) {
      out.add(new Measured(bytes[i], frames[i], largest[i]));
    }
    return out;
  }

  @Test
  void fourViewersShareTheEgressEquallyAndOneAloneGetsAllOfIt(@TempDir Path root) throws Exception {
    // One gateway instance, so the whole egress is one hub's to share; a per-viewer budget far
    // above the share,
    // so the share is what binds; frames every step, far more than the share carries.
    JsonObject config =
        new JsonObject()
            .put("gatewayInstances", 1)
            .put("maxEgressBytesPerSecond", EGRESS)
            .put("viewerBytesPerSecond", 10_000_000);
    try (TestServer server = new TestServer(root, config)) {
      String id = server.startJob(server.spec(100_000, 1)).getString("id");
      TestServer.awaitStatus(server, id, "running", 60);
      List<TestServer.Client> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          TestServer.Client c = server.connect(null, null);
          clients.add(c);
          c.send(new JsonObject().put("type", "subscribe").put("job", id));
        }
        for (TestServer.Client c : clients) {
          c.nextFrame(0, 60);
        }
        Thread.sleep(1500); // past the first second's burst
        List<Measured> four = measure(clients);
        int share = EGRESS / 4;
        for (Measured m : four) {
          System.out.printf(
              "egress %d B/s over 4 viewers: %d frame bytes in %.0f s (%d frames, largest %d)%n",
              EGRESS, m.bytes(), WINDOW_SECONDS, m.frames(), m.largest());
          assertTrue(m.frames() > 0, "frames still come: " + four);
          // A one-second bucket: at most the rate over the window, one second's burst and the frame
          // that
          // overdraws it.
          assertTrue(
              m.bytes() <= share * (WINDOW_SECONDS + 1) + m.largest(),
              "a viewer's share is " + share + " B/s: " + m + " in " + WINDOW_SECONDS + " s");
        }

        for (TestServer.Client c : clients.subList(1, 4)) {
          c.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server
                    .request(HttpMethod.GET, "/api/info", null, null)
                    .json()
                    .getInteger("clients", 4)
                > 1
            && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        Thread.sleep(1500);
        Measured alone = measure(clients.subList(0, 1)).getFirst();
        System.out.printf(
            "egress %d B/s, one viewer: %d frame bytes in %.0f s (%d frames)%n",
            EGRESS, alone.bytes(), WINDOW_SECONDS, alone.frames());
        assertTrue(
            alone.bytes() <= EGRESS * (WINDOW_SECONDS + 1) + alone.largest(),
            "never more than the egress");
        long mostOfFour = four.stream().mapToLong(Measured::bytes).max().orElseThrow();
        assertTrue(
            alone.bytes() > 2 * mostOfFour,
            "alone, a viewer gets the whole egress, not a quarter: " + alone + " against " + four);
      } finally {
        clients.forEach(TestServer.Client::close);
        server.stopJob(id);
      }
    }
  }
}
