package dev.latentstream.gateway;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Watches the trainer nodes for this gateway process, one instance per process. A node heard for
 * the first time (a gateway that started first, or a trainer restarted) is asked for its jobs, and
 * they are handed to the local hubs; a node silent for {@link #SILENT_MS} has its jobs marked
 * {@code unreachable} rather than left looking {@code running}. Everything it publishes is local to
 * this process: every gateway decides for itself.
 *
 * <p>Threads: its own event loop (a verticle of its own); its maps are touched there only, and the
 * hubs hear from it over the local event bus.
 */
public final class TrainerWatch extends VerticleBase {

  /** Heartbeats come every second; this many milliseconds without one means the node is gone. */
  static final long SILENT_MS = 3000;

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Map<String, Long> lastHeard = new HashMap<>();
  private final Map<String, Set<Integer>> jobsByNode = new HashMap<>();
  private final Map<Integer, JsonObject> lastStatus = new HashMap<>();

  @Override
  public Future<?> start() {
    vertx.eventBus().<JsonObject>consumer(Addresses.FROM_TRAINER_HEARTBEAT, m -> heard(m.body()));
    vertx
        .eventBus()
        .<TrainerEvent>consumer(
            Addresses.FROM_TRAINER_EVENTS,
            m -> {
              switch (m.body()) {
                case TrainerEvent.Status s -> lastStatus.put(s.job(), s.status());
                case TrainerEvent.Deleted d -> lastStatus.remove(d.job());
                default -> {}
              }
            });
    vertx.setPeriodic(1000, id -> markSilentNodes());
    return Future.succeededFuture();
  }

  private void heard(JsonObject beat) {
    String node = beat.getString("node");
    boolean isNew = lastHeard.put(node, System.currentTimeMillis()) == null;
    Set<Integer> jobs = new HashSet<>();
    beat.getJsonArray("jobs", new JsonArray()).forEach(n -> jobs.add(((Number) n).intValue()));
    jobsByNode.put(node, jobs);
    if (isNew) {
      // The node itself: with several trainer nodes, any other would list its own jobs.
      vertx
          .eventBus()
          .<JsonObject>request(Addresses.toTrainer(node), new TrainerCommand.ListJobs())
          .onSuccess(
              reply ->
                  reply
                      .body()
                      .getJsonArray("jobs")
                      .forEach(
                          j -> {
                            JsonObject job = (JsonObject) j;
                            publishLocally(job.getInteger("num"), job);
                          }))
          .onFailure(
              notYet ->
                  lastHeard.remove(node)); // a node still starting: ask again at its next beat
    }
  }

  private void markSilentNodes() {
    long now = System.currentTimeMillis();
    lastHeard
        .entrySet()
        .removeIf(
            e -> {
              if (now - e.getValue() <= SILENT_MS) {
                return false;
              }
              for (int num : jobsByNode.getOrDefault(e.getKey(), Set.of())) {
                if (claimedElsewhere(e.getKey(), num)) {
                  continue; // another trainer node of its failover group took it over
                }
                JsonObject last = lastStatus.get(num);
                if (last != null && !"unreachable".equals(last.getString("status"))) {
                  publishLocally(
                      num,
                      last.copy()
                          .put("status", "unreachable")
                          .put(
                              "error",
                              "the trainer node stopped answering "
                                  + (now - e.getValue()) / 1000
                                  + " s ago"));
                }
              }
              jobsByNode.remove(e.getKey());
              return true;
            });
  }

  private boolean claimedElsewhere(String silent, int num) {
    return jobsByNode.entrySet().stream()
        .anyMatch(n -> !n.getKey().equals(silent) && n.getValue().contains(num));
  }

  private void publishLocally(int num, JsonObject status) {
    vertx
        .eventBus()
        .publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Status(num, status), LOCAL);
  }
}
