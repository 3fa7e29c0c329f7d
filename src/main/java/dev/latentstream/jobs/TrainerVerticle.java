package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.runformat.RunLayout;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The trainer node: answers {@link Addresses#TO_TRAINER} commands by handing each to the class that
 * does it ({@link JobStarts}, {@link JobControl}, {@link ModelRequests}, {@link RunFileRelay}); at
 * start-up numbers the past runs ({@link JobNumbers}) and resumes interrupted ones ({@link
 * Recovery}), then beats ({@link Heartbeat}). Deployed as a worker: its handlers may touch the file
 * system. Threads: everything here runs on the verticle's context, except the trainers ({@link
 * TrainerThreads}).
 */
public final class TrainerVerticle extends VerticleBase {

  /**
   * Event-bus header on a {@code start} sent by the process itself (the job given to {@code
   * serve}): its spec is the operator's, not a client's, so it may name any data set path.
   */
  public static final String FROM_OPERATOR = "latentstream-from-operator";

  /**
   * Event-bus header on the {@code start} of the job {@code serve} trains by default: the trainer
   * answers with an existing run of the same name that is queued, running, paused or interrupted
   * instead of starting another one (a restarted server resumes its default job rather than adding
   * one).
   */
  public static final String DEFAULT_JOB = "latentstream-default-job";

  /** Within a service manager's usual 10 s, with room for the rest of the shutdown. */
  static final int STOP_WAIT_SECONDS = 5;

  private final ServerConfig config;
  private final FrameRenderer renderer;
  private final JobQueue queue;
  private TrainerThreads threads;
  private JobControl control;
  private JobStarts starts;
  private Heartbeat heartbeat;
  private ModelRequests models;
  private final ModelFiles modelFiles = new ModelFiles();

  /** The node's part in its failover group on a cluster (see {@link Leases}), else null. */
  private Failover failover;

  public TrainerVerticle(ServerConfig config, FrameRenderer renderer) {
    this.config = config;
    this.renderer = renderer;
    this.queue = new JobQueue(config.maxConcurrentJobs(), config.queueLimit());
  }

  @Override
  public Future<?> start() {
    JobEvents events = new JobEvents(vertx.eventBus());
    RunDirectories runDirs = new RunDirectories(config.runsDir(), queue);
    threads = new TrainerThreads(vertx, context, config, renderer, events);
    models = new ModelRequests(config, renderer, events);
    control = new JobControl(runDirs, queue, threads, events, models::forget);
    heartbeat = new Heartbeat(vertx, queue);
    if (vertx.isClustered()) {
      String name = config.clusterHost() + ":" + config.clusterPort();
      Leases leases = new Leases(vertx, heartbeat.node, name, config.runsDir());
      failover = new Failover(vertx, leases, queue, control, config.runsDir(), heartbeat::beat);
      control.useLeases(leases, name);
      heartbeat.named(name);
      threads.useLeases(leases);
      heartbeat.renewing(failover::renew);
    }
    Recovery recovery = new Recovery(config.runsDir());
    return JobNumbers.open(vertx, recovery.scan())
        .compose(
            numbers -> {
              starts =
                  new JobStarts(
                      config,
                      vertx.isClustered(),
                      queue,
                      control,
                      runDirs,
                      numbers,
                      heartbeat,
                      failover);
              if (failover == null) {
                return Future.succeededFuture(new Failover.Sorted(numbers.found, List.of()));
              }
              return failover.leases.start().compose(v -> failover.sort(numbers.found));
            })
        .map(
            sorted -> {
              recovery.restore(
                  sorted.restore(), queue, control, events, config.resumeInterrupted());
              if (failover != null) {
                failover.adopt(sorted.adopt());
                failover.start();
              }
              vertx.eventBus().<TrainerCommand>consumer(Addresses.TO_TRAINER, this::handle);
              vertx
                  .eventBus()
                  .<TrainerCommand>consumer(Addresses.toTrainer(heartbeat.node), this::handle);
              heartbeat.start();
              return null;
            });
  }

  /**
   * Stops every trainer and waits (this is a worker) for their threads, so none outlives Vert.x.
   * Each trainer checkpoints its job at the step it stops after (see {@code Trainer#stop}), so the
   * next server continues there.
   */
  @Override
  public Future<?> stop() {
    if (control == null) {
      return Future.succeededFuture(); // start failed before anything ran
    }
    if (failover != null) {
      failover.stop();
    }
    control.interruptAll();
    models.closeAll();
    threads.joinAll(STOP_WAIT_SECONDS);
    // Each trainer that ended queued its finish (the job's last status and log line) on this
    // context while we waited: the stop is done once those have run and published, so a server
    // that stops its gateways after its trainer has them all delivered (ServerApp.Running#close).
    Promise<Void> finishesPublished = Promise.promise();
    context.runOnContext(v -> finishesPublished.complete());
    // Beating (and renewing the leases) until the trainers have checkpointed: then the group takes
    // the interrupted jobs over at once.
    return finishesPublished
        .future()
        .compose(
            v -> {
              heartbeat.stop();
              return failover == null ? Future.succeededFuture() : failover.leases.leave();
            });
  }

  private void handle(Message<TrainerCommand> msg) {
    try {
      switch (msg.body()) {
        case TrainerCommand.ListJobs l ->
            msg.reply(
                new JsonObject()
                    .put("jobs", new JsonArray(queue.all().stream().map(Job::toJson).toList())));
        case TrainerCommand.GetJob g -> {
          Job j = job(g.job());
          msg.reply(j.toJson().put("runDir", j.runDir.toString()));
        }
        case TrainerCommand.Start s -> starts.start(msg, s);
        case TrainerCommand.Control c -> {
          Job j = job(c.job());
          if (c.action() == TrainerCommand.Action.RESUME
              && failover != null
              && !j.is(Job.Status.paused)
              && !j.active()) {
            starts.resumeLeased(msg, j);
            return;
          }
          msg.reply(
              switch (c.action()) {
                case PAUSE -> control.pause(j).toJson();
                case RESUME -> control.resume(j).toJson();
                case STOP -> control.stop(j).toJson();
                case DELETE -> control.delete(j);
              });
        }
        case TrainerCommand.Set s -> msg.reply(control.set(job(s.job()), s.key(), s.value()));
        case TrainerCommand.ModelRequest r -> models.handle(msg, job(r.job()), r);
        case TrainerCommand.ReadRunFile f -> msg.reply(RunFileRelay.read(job(f.job()), f));
        case TrainerCommand.ExportModel e -> exportModel(msg, job(e.job()), e);
      }
    } catch (ReplyError e) {
      msg.fail(e.code, e.getMessage());
    } catch (JobQueue.Full e) {
      msg.fail(ReplyError.UNAVAILABLE, e.getMessage());
    } catch (ConfigException | IllegalArgumentException e) {
      msg.fail(ReplyError.BAD_REQUEST, e.getMessage());
    } catch (RuntimeException e) {
      // Never leave a request unanswered: the caller would wait for the event-bus timeout.
      msg.fail(ReplyError.INTERNAL, "internal error: " + e);
    }
  }

  /**
   * Exports the job's latest checkpoint (or a kept epoch's) on a worker ({@link ModelFiles});
   * replies with the file's name and step.
   */
  private void exportModel(Message<TrainerCommand> msg, Job j, TrainerCommand.ExportModel e) {
    RunLayout.checkModel(e.format(), e.part());
    vertx
        .executeBlocking(
            () -> modelFiles.export(j.id, j.runDir, e.format(), e.part(), e.epoch(), e.step()),
            false)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                msg.reply(ar.result().put("job", j.id).put("runDir", j.runDir.toString()));
              } else if (ar.cause() instanceof ReplyError r) {
                msg.fail(r.code, r.getMessage());
              } else {
                msg.fail(ReplyError.INTERNAL, "internal error: " + ar.cause());
              }
            });
  }

  private Job job(Object ref) {
    return queue
        .find(ref)
        .orElseThrow(
            () ->
                new ReplyError(
                    ReplyError.NOT_FOUND,
                    "unknown job " + (ref == null ? "(none given)" : "'" + ref + "'")));
  }
}
