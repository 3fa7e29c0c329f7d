package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Tells every gateway, once a second and whenever a job is added, that this trainer node is alive
 * and which jobs it owns (by number and id), so gateways route each job's commands to it. Runs on
 * the trainer verticle's context: its timer is set from there, and it reads the verticle's {@link
 * JobQueue}.
 */
final class Heartbeat {

  static final long PERIOD_MS = 1000;

  /** This trainer node's name: new every start, so a restarted node is a new node. */
  final String node = java.util.UUID.randomUUID().toString();

  private final Vertx vertx;
  private final JobQueue jobs;
  private long timer = -1;

  Heartbeat(Vertx vertx, JobQueue jobs) {
    this.vertx = vertx;
    this.jobs = jobs;
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
    vertx
        .eventBus()
        .publish(
            Addresses.FROM_TRAINER_HEARTBEAT,
            new JsonObject()
                .put("node", node)
                .put("jobs", new JsonArray(jobs.all().stream().map(j -> j.num).toList()))
                .put("ids", new JsonArray(jobs.all().stream().map(j -> j.id).toList())));
  }
}
