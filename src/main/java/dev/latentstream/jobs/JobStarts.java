package dev.latentstream.jobs;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.config.Sweep;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Starts training on this node: a new job or a sweep's jobs ({@code start}), each admitted,
 * numbered cluster-wide ({@link JobNumbers}) and queued, and in a failover group a finished job
 * resumed once this node holds its lease. Each reply waits for the number and the lease; a failure
 * becomes the reply's code. Threads: the trainer verticle's context (the numbers' and leases'
 * futures complete there).
 */
final class JobStarts {

  private final ServerConfig config;
  private final boolean clustered;
  private final JobQueue queue;
  private final JobControl control;
  private final RunDirectories runDirs;
  private final JobNumbers numbers;
  private final Heartbeat heartbeat;

  /** The node's part in its failover group on a cluster, else null. */
  private final Failover failover;

  JobStarts(
      ServerConfig config,
      boolean clustered,
      JobQueue queue,
      JobControl control,
      RunDirectories runDirs,
      JobNumbers numbers,
      Heartbeat heartbeat,
      Failover failover) {
    this.config = config;
    this.clustered = clustered;
    this.queue = queue;
    this.control = control;
    this.runDirs = runDirs;
    this.numbers = numbers;
    this.heartbeat = heartbeat;
    this.failover = failover;
  }

  /**
   * Admits the job (or the sweep), numbers it, queues it and launches it if a slot is free; the
   * default job of {@code serve} ({@link TrainerVerticle#DEFAULT_JOB}) is answered with its run
   * that is already here or on another node of the group.
   */
  void start(Message<TrainerCommand> msg, TrainerCommand.Start s) {
    JsonObject grid = StartRequest.grid(config, s);
    if (grid != null) {
      startSweep(
          msg,
          StartRequest.sweep(
              config, s, grid, msg.headers().contains(TrainerVerticle.FROM_OPERATOR)));
      return;
    }
    JobConfig spec =
        StartRequest.spec(config, s, msg.headers().contains(TrainerVerticle.FROM_OPERATOR));
    if (msg.headers().contains(TrainerVerticle.DEFAULT_JOB)) {
      Job existing =
          queue.all().stream()
              .filter(
                  j ->
                      j.spec != null
                          && j.spec.name().equals(spec.name())
                          && (j.active() || j.is(Job.Status.interrupted)))
              .findFirst()
              .orElse(null);
      if (existing != null) {
        msg.reply(existing.toJson());
        return;
      }
      JsonObject elsewhere = failover == null ? null : failover.ownedElsewhere(spec.name());
      if (elsewhere != null) {
        msg.reply(elsewhere);
        return;
      }
    }
    queue.checkRoom();
    numbers
        .next()
        .onComplete(
            n -> {
              if (n.failed()) {
                msg.fail(
                    ReplyError.UNAVAILABLE, "cannot number the job: " + n.cause().getMessage());
                return;
              }
              enqueue(spec, n.result(), null)
                  .onComplete(
                      ar -> {
                        if (ar.failed()) {
                          fail(msg, ar.cause());
                          return;
                        }
                        heartbeat.beat(); // gateways route the new job's commands here from now on
                        control.schedule();
                        msg.reply(ar.result().toJson());
                      });
            });
  }

  /**
   * A sweep: the queue must take every member or none is queued; then each is numbered and queued,
   * sharing the sweep's id, and the reply lists them.
   */
  private void startSweep(Message<TrainerCommand> msg, Sweep sweep) {
    int n = sweep.members().size();
    queue.checkRoom(n);
    String id = runDirs.uniqueId(sweep.name() + "-sweep");
    JsonArray started = new JsonArray();
    Future<Void> chain = Future.succeededFuture();
    for (Sweep.Member m : sweep.members()) {
      chain =
          chain
              .compose(v -> numbers.next())
              .compose(num -> enqueue(m.spec(), num, id))
              .map(j -> started.add(j.toJson()))
              .mapEmpty();
    }
    chain.onComplete(
        ar -> {
          heartbeat.beat(); // gateways route commands for the new jobs to this node from now on
          control.schedule();
          if (ar.succeeded()) {
            msg.reply(new JsonObject().put("sweep", id).put("jobs", started));
          } else {
            msg.fail(
                ReplyError.UNAVAILABLE,
                "cannot number the sweep's jobs ("
                    + started.size()
                    + " of "
                    + n
                    + " queued): "
                    + ar.cause().getMessage());
          }
        });
  }

  /**
   * Queues a new job; in a failover group it first takes the job's lease and records it in the run
   * directory.
   */
  private Future<Job> enqueue(JobConfig spec, int num, String sweep) {
    String id = runDirs.idFor(spec, num, clustered);
    if (failover == null) {
      try {
        return Future.succeededFuture(control.enqueue(spec, num, id, sweep));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    return failover
        .leases
        .acquire(id)
        .compose(lease -> failover.leases.take(id, config.runsDir().resolve(id), lease))
        .map(fence -> control.enqueue(spec, num, id, sweep))
        .onFailure(t -> failover.leases.release(id));
  }

  /** Resumes a finished job in a failover group: only once this node holds its lease. */
  void resumeLeased(Message<TrainerCommand> msg, Job j) {
    failover
        .leases
        .acquire(j.id)
        .compose(lease -> failover.leases.take(j.id, j.runDir, lease))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                failover.leases.release(j.id);
                fail(msg, ar.cause());
                return;
              }
              try {
                Job again = control.resume(j);
                heartbeat.beat();
                msg.reply(again.toJson());
              } catch (RuntimeException e) {
                failover.leases.release(j.id);
                fail(msg, e);
              }
            });
  }

  private static void fail(Message<TrainerCommand> msg, Throwable t) {
    switch (t) {
      case ReplyError e -> msg.fail(e.code, e.getMessage());
      case Leases.Taken e -> msg.fail(ReplyError.CONFLICT, e.getMessage());
      case JobQueue.Full e -> msg.fail(ReplyError.UNAVAILABLE, e.getMessage());
      case ConfigException e -> msg.fail(ReplyError.BAD_REQUEST, e.getMessage());
      default -> msg.fail(ReplyError.UNAVAILABLE, "cannot queue the job: " + t.getMessage());
    }
  }
}
