package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.Codecs;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.FakeViewer;
import dev.latentstream.testing.OnContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new run of a job whose steps reach a hub before its status (on a cluster the new owner's status
 * and its steps travel on different sending contexts, so the event bus may reorder them): a viewer
 * gets each step once, live points never going back, and a fresh history with no gap.
 */
class NewRunStepsTest {

  private static final String ID = "vae-fashion-1";
  private static final List<String> TERMS = List.of("recon", "kl");

  @TempDir Path root;
  private Vertx vertx;
  private Context context;
  private final FakeViewer viewer = new FakeViewer();

  @BeforeEach
  void startHub() throws Exception {
    vertx = Vertx.vertx();
    Codecs.register(vertx);
    ServerConfig config =
        ServerConfig.fromJson(
            new JsonObject()
                .put("port", 0)
                .put("token", "new-run-steps")
                .put("runsDir", root.resolve("runs").toString())
                .put("lossBatchMs", 10),
            "test");
    context = vertx.getOrCreateContext();
    StreamHub hub = onContext(() -> new StreamHub(vertx, config, new TrainerRoutes(vertx)));
    onContext(() -> hub.start())
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    publish(new TrainerEvent.Status(1, job(0, -1, "node-a")));
    awaitUntil(() -> onContext(() -> hub.jobStatuses().size()) == 1, "the job's status");
    onContext(
        () -> {
          hub.attach(viewer.socket(), true, () -> {});
          return null;
        });
    onContext(
        () -> {
          viewer.subscribeToLoss(1);
          return null;
        });
    awaitUntil(() -> viewer.histories() == 1, "the first history");
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void stepsOfANewRunBeforeItsStatusStartAFreshHistoryAndAreNeverSentLiveAfterTheOldRun()
      throws Exception {
    Path runDir = Files.createDirectories(root.resolve("runs").resolve(ID));
    // Node A trains 1..192 and dies; node B takes over from the step-120 checkpoint, rewrites
    // metrics.csv up to it, and has written 121..124 of its own rows (later ones still buffered).
    try (MetricsCsv a = new MetricsCsv(runDir.resolve(MetricsCsv.FILE))) {
      a.open(TERMS, 0);
      for (long s = 1; s <= 192; s++) {
        a.step(s, 0, terms(s), 0);
      }
    }
    try (MetricsCsv b = new MetricsCsv(runDir.resolve(MetricsCsv.FILE))) {
      b.open(TERMS, 120);
      for (long s = 121; s <= 124; s++) {
        b.step(s, 0, terms(s), 0);
      }
    }
    steps(1, 192);
    awaitUntil(() -> viewer.lastLive() == 192, "the old run's live points");
    steps(121, 128); // node B's first steps, before its status
    Thread.sleep(200); // a few loss batches go by
    publish(new TrainerEvent.Status(1, job(1, 120, "node-b")));
    steps(129, 140);
    awaitUntil(() -> viewer.lastStep() == 140, "the new run's step 140");

    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
    assertEquals(2, viewer.histories(), "a fresh history for the new run");
    JsonObject fresh = viewer.lastHistory();
    assertEquals(1L, fresh.getJsonObject("columns").getJsonArray("step").getLong(0));
  }

  @Test
  void aStaleUnreachableMarkOfTheOldRunStartsNoNewStream() throws Exception {
    Path runDir = Files.createDirectories(root.resolve("runs").resolve(ID));
    try (MetricsCsv b = new MetricsCsv(runDir.resolve(MetricsCsv.FILE))) {
      b.open(TERMS, 0);
      for (long s = 1; s <= 20; s++) {
        b.step(s, 0, terms(s), 0);
      }
    }
    publish(new TrainerEvent.Status(1, job(1, 0, "node-b"))); // node B took the job over
    steps(1, 20);
    awaitUntil(() -> viewer.lastStep() == 20, "the new run's step 20");
    long before = viewer.histories();
    // The gateway's watch marks node A's last status unreachable after node B's came in.
    publish(
        new TrainerEvent.Status(
            1, job(0, -1, "node-a").put("status", "unreachable").put("error", "silent")));
    steps(21, 40);
    awaitUntil(() -> viewer.lastLive() == 40, "live points after the stale mark");

    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
    assertEquals(
        before, viewer.histories(), "the stale mark starts no new stream and no new history");
  }

  /** Problems in what the viewer received, as the page draws it (see LossContinuity). */
  private List<String> problems() {
    List<String> out = new ArrayList<>();
    long last = -1;
    for (JsonObject m : viewer.received()) {
      String type = m.getString("type", "");
      if (!type.equals("history") && !type.equals("loss")) {
        continue;
      }
      JsonArray steps = m.getJsonObject("columns").getJsonArray("step");
      if (type.equals("history")) {
        last = 0;
      } else if (last < 0) {
        out.add("loss before any history");
      }
      for (int i = 0; i < steps.size(); i++) {
        long s = steps.getLong(i);
        if (s != last + 1) {
          out.add((s > last + 1 ? "gap: " : "repeat: ") + type + " step " + s + " after " + last);
        }
        last = Math.max(last, s);
      }
    }
    return out;
  }

  private static JsonObject job(int failovers, long resumedAtStep, String node) {
    JsonObject j =
        new JsonObject()
            .put("num", 1)
            .put("id", ID)
            .put("status", "running")
            .put("step", 0)
            .put("node", node)
            .put("failovers", failovers);
    return resumedAtStep < 0 ? j : j.put("resumedAtStep", resumedAtStep);
  }

  private static Map<String, Double> terms(long step) {
    return Map.of("recon", 100.0 / step, "kl", 1.0);
  }

  private void steps(long from, long to) {
    for (long s = from; s <= to; s++) {
      publish(new TrainerEvent.Step(1, s, 0, System.currentTimeMillis(), terms(s)));
    }
  }

  /** Published from the hub's context, so the hub gets the events in this order. */
  private void publish(TrainerEvent e) {
    onContext(
        () -> {
          vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, e);
          return null;
        });
  }

  private <T> T onContext(Callable<T> work) {
    return OnContext.call(context, work);
  }

  private static void awaitUntil(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(10);
    }
  }
}
