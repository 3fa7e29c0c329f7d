package dev.latentstream.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a command goes: to the trainer node that owns the job it names ({@link
 * Addresses#toTrainer}), or to any trainer ({@link Addresses#TO_TRAINER}) for a start, a listing,
 * or a job whose owner it cannot address. With one trainer node both lead to it; with several, a
 * command never lands on a node that does not have the job.
 *
 * <p>Owners are learnt from two kinds of evidence, and the newest wins. A node's heartbeat lists
 * the jobs it owns, each with its failover count. A job's status ({@link TrainerEvent.Status})
 * names its node ({@code node}, the name heartbeats also carry) and its {@code failovers}. The
 * status matters after a failover: the taker publishes it on the events address before the new
 * run's first step, from the context the steps go from, so this gateway knows the new owner before
 * anything asks it for the new run's past, whenever the taker's next heartbeat gets here (on a
 * partitioned cluster it may come late, while the cut-off owner's last one still names the job).
 * Each takeover raises the job's failover count, so evidence is ordered by it: a mapping is
 * replaced only by evidence of the same or a higher count, and a late heartbeat or an {@code
 * unreachable} copy of the old owner's status never routes a job back to the node that lost it. A
 * status naming a node no heartbeat has introduced yet still retires the old owner: the job's
 * commands go to any trainer until that node beats.
 *
 * <p>Threads: create one per verticle; the maps are written on the event loop that created it (its
 * consumers are registered before the hub's, so a status updates the routes before the hub acts on
 * it), and may be read from a worker that relays run files.
 */
public final class TrainerRoutes {

  /** A job's owner as last evidenced: its node's address name (null: not addressable yet). */
  private record Owner(String node, int failovers) {}

  private final Vertx vertx;

  /** Each trainer node's address name (its heartbeat's {@code node}) by its name in job objects. */
  private final Map<String, String> nodeByName = new ConcurrentHashMap<>();

  private final Map<String, Owner> byId = new ConcurrentHashMap<>();
  private final Map<Integer, Owner> byNum = new ConcurrentHashMap<>();
  private final MessageConsumer<JsonObject> beats;
  private final MessageConsumer<TrainerEvent> statuses;

  public TrainerRoutes(Vertx vertx) {
    this.vertx = vertx;
    // consumer, not localConsumer: on a cluster the trainers beat and publish in other JVMs.
    this.beats = vertx.eventBus().consumer(Addresses.FROM_TRAINER_HEARTBEAT, m -> heard(m.body()));
    this.statuses =
        vertx
            .eventBus()
            .consumer(
                Addresses.FROM_TRAINER_EVENTS,
                m -> {
                  if (m.body() instanceof TrainerEvent.Status s) {
                    heard(s);
                  }
                });
  }

  private void heard(JsonObject beat) {
    String node = beat.getString("node");
    if (node == null) {
      return;
    }
    String name = beat.getString("name");
    if (name != null) {
      nodeByName.put(name, node);
    }
    JsonArray nums = beat.getJsonArray("jobs", new JsonArray());
    JsonArray ids = beat.getJsonArray("ids", new JsonArray());
    JsonArray failovers = beat.getJsonArray("failovers", new JsonArray());
    Set<Integer> listedNums = new HashSet<>();
    Set<String> listedIds = new HashSet<>();
    for (int i = 0; i < nums.size(); i++) {
      int count = i < failovers.size() ? ((Number) failovers.getValue(i)).intValue() : 0;
      Owner owner = new Owner(node, count);
      int num = ((Number) nums.getValue(i)).intValue();
      listedNums.add(num);
      byNum.merge(num, owner, TrainerRoutes::newer);
      if (i < ids.size()) {
        String id = String.valueOf(ids.getValue(i));
        listedIds.add(id);
        byId.merge(id, owner, TrainerRoutes::newer);
      }
    }
    // A job the node no longer lists (deleted, or let go to another node) is not routed there.
    byNum
        .entrySet()
        .removeIf(e -> node.equals(e.getValue().node()) && !listedNums.contains(e.getKey()));
    byId.entrySet()
        .removeIf(e -> node.equals(e.getValue().node()) && !listedIds.contains(e.getKey()));
  }

  /** A job object names its node: the newest evidence of its owner (see the class comment). */
  private void heard(TrainerEvent.Status s) {
    JsonObject job = s.status();
    String name = job.getString("node");
    if (name == null) {
      return; // off a cluster: one trainer, nothing to route
    }
    Owner owner = new Owner(nodeByName.get(name), job.getInteger("failovers", 0));
    byNum.merge(s.job(), owner, TrainerRoutes::newer);
    String id = job.getString("id");
    if (id != null) {
      byId.merge(id, owner, TrainerRoutes::newer);
    }
  }

  /** Evidence of the same or a later takeover replaces what was known; older evidence does not. */
  private static Owner newer(Owner known, Owner heard) {
    return heard.failovers() >= known.failovers() ? heard : known;
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
    Owner owner =
        switch (ref) {
          case String id -> byId.get(id);
          case Number n when n.doubleValue() == n.intValue() -> byNum.get(n.intValue());
          case null, default -> null;
        };
    return owner == null || owner.node() == null
        ? Addresses.TO_TRAINER
        : Addresses.toTrainer(owner.node());
  }

  /** Sends {@code command} where {@link #address} says and returns the reply's body. */
  public Future<JsonObject> request(TrainerCommand command) {
    return request(command, new DeliveryOptions());
  }

  /**
   * {@link #request(TrainerCommand)} with {@code options} (a send timeout of its own), the address
   * resolved now.
   */
  public Future<JsonObject> request(TrainerCommand command, DeliveryOptions options) {
    return vertx
        .eventBus()
        .<JsonObject>request(address(command), command, options)
        .map(m -> m.body());
  }

  /** The Vert.x instance the routes' consumers live on (for timers of those who send). */
  Vertx vertx() {
    return vertx;
  }

  public Future<Void> close() {
    return Future.all(beats.unregister(), statuses.unregister()).mapEmpty();
  }
}
