package dev.latentstream.stream;

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
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A started {@link StreamHub} on one Vert.x context, a {@link FakeViewer} of job 1 ({@value #ID}),
 * and trainer nodes faked by publishing on the hub's event bus. Everything a test publishes here
 * goes out from the hub's context, so the hub gets it in that order. The test closes it.
 */
final class HubOnOneContext implements AutoCloseable {

  static final String ID = "vae-fashion-1";
  static final List<String> TERMS = List.of("recon", "kl");

  final Vertx vertx;
  final FakeViewer viewer = new FakeViewer();
  private final Context context;
  private final StreamHub hub;

  private HubOnOneContext(ServerConfig config) throws Exception {
    vertx = Vertx.vertx();
    Codecs.register(vertx);
    context = vertx.getOrCreateContext();
    hub = onContext(() -> new StreamHub(vertx, config, new TrainerRoutes(vertx)));
    onContext(() -> hub.start())
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** A hub started on {@code config}, with no viewer yet. */
  static HubOnOneContext start(ServerConfig config) throws Exception {
    return new HubOnOneContext(config);
  }

  /**
   * Waits for the hub to know job 1's status, attaches the viewer, subscribes it to the job's loss
   * stream and waits for its first history.
   */
  void attachViewer() throws InterruptedException {
    awaitUntil(() -> onContext(() -> hub.jobStatuses().size()) == 1, "the job's status", 10);
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
    awaitUntil(() -> viewer.histories() == 1, "the first history", 10);
  }

  /** {@code work}'s result, computed on the hub's context. */
  <T> T onContext(Callable<T> work) {
    return OnContext.call(context, work);
  }

  /** Published from the hub's context, so the hub gets the events in this order. */
  void publish(TrainerEvent e) {
    onContext(
        () -> {
          vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, e);
          return null;
        });
  }

  /** Job 1's steps {@code from}..{@code to}, with the {@link #terms} of each. */
  void steps(long from, long to) {
    for (long s = from; s <= to; s++) {
      publish(new TrainerEvent.Step(1, s, 0, System.currentTimeMillis(), terms(s)));
    }
  }

  /** Job 1's status as {@code node} runs it, resumed at a step ({@code -1}: a first run). */
  static JsonObject running(int failovers, long resumedAtStep, String node) {
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

  static Map<String, Double> terms(long step) {
    return Map.of("recon", 100.0 / step, "kl", 1.0);
  }

  /**
   * Writes the metrics.csv in {@code runDir} as a run resumed at {@code resumedAtStep} (0: a first
   * run) does up to {@code lastStep}: its rows after {@code resumedAtStep} are replaced by steps
   * {@code resumedAtStep + 1}..{@code lastStep}.
   */
  static void writeRows(Path runDir, long resumedAtStep, long lastStep) throws IOException {
    try (MetricsCsv csv = new MetricsCsv(runDir.resolve(MetricsCsv.FILE))) {
      csv.open(TERMS, resumedAtStep);
      for (long s = resumedAtStep + 1; s <= lastStep; s++) {
        csv.step(s, 0, terms(s), 0);
      }
    }
  }

  /** Polls {@code condition} every 10 ms; fails naming {@code what} after {@code seconds}. */
  static void awaitUntil(BooleanSupplier condition, String what, long seconds)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(10);
    }
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
