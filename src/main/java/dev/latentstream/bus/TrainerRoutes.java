package dev.latentstream.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a command goes: to the trainer node that owns the job it names ({@link
 * Addresses#toTrainer}), learnt from the nodes' heartbeats, or to any trainer ({@link
 * Addresses#TO_TRAINER}) for a start, a listing, or a job no heartbeat has named yet. With one
 * trainer node both lead to it; with several, a command never lands on a node that does not have
 * the job. Create one per verticle: it lives on the event loop that created it.
 */
public final class TrainerRoutes {

  private final Vertx vertx;
  private final Map<String, String> nodeById = new HashMap<>();
  private final Map<Integer, String> nodeByNum = new HashMap<>();
  private final MessageConsumer<JsonObject> beats;

  public TrainerRoutes(Vertx vertx) {
    this.vertx = vertx;
    // consumer, not localConsumer: on a cluster the trainers beat in other JVMs.
    this.beats = vertx.eventBus().consumer(Addresses.FROM_TRAINER_HEARTBEAT, m -> heard(m.body()));
  }

  private void heard(JsonObject beat) {
    String node = beat.getString("node");
    if (node == null) {
      return;
    }
    nodeById.values().removeIf(node::equals);
    nodeByNum.values().removeIf(node::equals);
    beat.getJsonArray("ids", new JsonArray()).forEach(id -> nodeById.put(String.valueOf(id), node));
    beat.getJsonArray("jobs", new JsonArray())
        .forEach(n -> nodeByNum.put(((Number) n).intValue(), node));
  }

  /** The address for {@code command}: its job's node when known, else any trainer. */
  public String address(TrainerCommand command) {
    Object ref =
        switch (command) {
          case TrainerCommand.GetJob g -> g.job();
          case TrainerCommand.Control c -> c.job();
          case TrainerCommand.Set s -> s.job();
          case TrainerCommand.ModelRequest r -> r.job();
          case TrainerCommand.ReadRunFile f -> f.job();
          case TrainerCommand.ExportModel e -> e.job();
          case TrainerCommand.ListJobs l -> null;
          case TrainerCommand.Start s -> null;
        };
    String node =
        switch (ref) {
          case String id -> nodeById.get(id);
          case Number n when n.doubleValue() == n.intValue() -> nodeByNum.get(n.intValue());
          case null, default -> null;
        };
    return node == null ? Addresses.TO_TRAINER : Addresses.toTrainer(node);
  }

  /** Sends {@code command} where {@link #address} says and returns the reply's body. */
  public Future<JsonObject> request(TrainerCommand command) {
    return vertx.eventBus().<JsonObject>request(address(command), command).map(m -> m.body());
  }

  public Future<Void> close() {
    return beats.unregister();
  }
}
