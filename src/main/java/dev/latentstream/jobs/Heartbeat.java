package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Tells every gateway, once a second and whenever a job is added or taken over, that this trainer
 * node is alive and which jobs it owns (by number and id, with each one's failover count), so
 * gateways route each job's commands to it. It carries the node's name in job objects too, so a
 * gateway can route by a job's status as well (see {@code bus.TrainerRoutes}). Runs on the trainer
 * verticle's context: its timer is set from there, and it reads the verticle's {@link JobQueue}.
 */
final class Heartbeat {

  static final long PERIOD_MS = 1000;

  /** This trainer node's name: new every start, so a restarted node is a new node. */
  final String node = java.util.UUID.randomUUID().toString();

  private final Vertx vertx;
  private final JobQueue jobs;
  private long timer = -1;

  /** This node's name in job objects ({@code node}: host and cluster port); null off a cluster. */
  private String name;

  /** Renews the failover group's leases at every beat (see {@link Leases}); null off a cluster. */
  private Runnable renew;

  Heartbeat(Vertx vertx, JobQueue jobs) {
    this.vertx = vertx;
    this.jobs = jobs;
  }

  void named(String name) {
    this.name = name;
  }

  void renewing(Runnable renew) {
    this.renew = renew;
  }

  void start() {
    beat();
    timer = vertx.setPeriodic(PERIOD_MS, id -> beat());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  void beat() {
    if (renew != null) {
      renew.run();
    }
    // A job another node took over is that node's to announce.
    var mine = jobs.all().stream().filter(j -> j.movedTo == null).toList();
    JsonObject beat =
        new JsonObject()
            .put("node", node)
            .put("jobs", new JsonArray(mine.stream().map(j -> j.num).toList()))
            .put("ids", new JsonArray(mine.stream().map(j -> j.id).toList()))
            .put("failovers", new JsonArray(mine.stream().map(j -> j.failovers).toList()));
    if (name != null) {
      beat.put("name", name);
    }
    vertx.eventBus().publish(Addresses.FROM_TRAINER_HEARTBEAT, beat);
  }
}
