package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compare view's cost on the wire (issue 18): one real WebSocket on the real server, subscribed
 * as the page's compare view subscribes to 8 training jobs, counted in wall-clock time. Its one
 * {@code viewerBytesPerSecond} is shared by the 8 jobs, not granted to each.
 */
@Timeout(300)
class CompareSocketBudgetTest {

  static final int BUDGET = 90_000;
  static final int JOBS = 8;
  static final int WINDOW_SECONDS = 20;

  @Test
  void aSocketWatchingEightTrainingJobsReceivesOneBudgetOverTwentySecondsSharedByAllEight(
      @TempDir Path root) throws Exception {
    // One gateway instance: the socket's budget is the per-viewer one, the process egress far
    // above.
    JsonObject config =
        new JsonObject()
            .put("gatewayInstances", 1)
            .put("viewerBytesPerSecond", BUDGET)
            .put("maxConcurrentJobs", JOBS)
            .put("queueLimit", 2 * JOBS);
    try (TestServer server = new TestServer(root, config)) {
      List<Integer> nums = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < JOBS; i++) {
        // A frame every step: together the jobs offer far more than one budget.
        JsonObject job = server.startJob(server.spec(100_000, 1).put("beta", 1 + i));
        nums.add(job.getInteger("num"));
        ids.add(job.getString("id"));
      }
      for (String id : ids) {
        TestServer.awaitStatus(server, id, "running", 120);
      }
      AtomicLong bytes = new AtomicLong();
      AtomicLongArray frames = new AtomicLongArray(JOBS);
      AtomicLong largest = new AtomicLong();
      try (TestServer.Client c = server.connect(null, null)) {
        // Every byte the socket carries, text and binary, as the server's budget counts them.
        c.ws.textMessageHandler(t -> bytes.addAndGet(t.getBytes(StandardCharsets.UTF_8).length));
        c.ws.binaryMessageHandler(
            b -> {
              bytes.addAndGet(b.length());
              largest.accumulateAndGet(b.length(), Math::max);
              int i = nums.indexOf(b.getInt(4));
              if (i >= 0) {
                frames.incrementAndGet(i);
              }
            });
        // What the page's compare view asks for each run (compare.js subscribeAll, default
        // streams).
        JsonArray streams =
            new JsonArray(List.of("loss", "status", "diagnostics", "recon", "samples"));
        for (int num : nums) {
          c.send(TestServer.message("subscribe", "s" + num, num).put("streams", streams));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!allPositive(frames) && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        assertTrue(allPositive(frames), "every job's frames reach the socket: " + frames);
        Thread.sleep(2_000); // past the histories and the first second's burst

        long b0 = bytes.get();
        long[] f0 = snapshot(frames);
        long t0 = System.nanoTime();
        Thread.sleep(WINDOW_SECONDS * 1000L);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long received = bytes.get() - b0;
        long[] perJob = snapshot(frames);
        for (int i = 0; i < JOBS; i++) {
          perJob[i] -= f0[i];
        }
        double rate = received / seconds;
        String what =
            String.format(
                "%.0f bytes/s over %.1f s (%.2f of %d), frames per job %s, largest frame %d",
                rate, seconds, rate / BUDGET, BUDGET, Arrays.toString(perJob), largest.get());
        System.out.println("compare socket on " + JOBS + " jobs: " + what);
        assertTrue(
            rate <= BUDGET * 1.10,
            "one budget for the socket, not one per job (at most +10 %): " + what);
        assertTrue(
            rate >= BUDGET * 0.75,
            "the jobs offer far more than the budget, and the socket gets it: " + what);
        for (int i = 0; i < JOBS; i++) {
          assertTrue(perJob[i] > 0, "every job has its share of the budget: " + what);
        }
      } finally {
        for (String id : ids) {
          server.stopJob(id);
        }
      }
    }
  }

  static boolean allPositive(AtomicLongArray a) {
    for (int i = 0; i < a.length(); i++) {
      if (a.get(i) == 0) {
        return false;
      }
    }
    return true;
  }

  static long[] snapshot(AtomicLongArray a) {
    long[] out = new long[a.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i);
    }
    return out;
  }
}
