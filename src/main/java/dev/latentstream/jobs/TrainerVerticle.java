package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.config.Sweep;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.rundir.RunIdentity;
import dev.latentstream.runformat.RunLayout;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Counter;
import java.util.List;

/**
 * The trainer node: answers {@link Addresses#TO_TRAINER} commands by handing each to the class that
 * does it ({@link JobQueue}, {@link JobControl}, {@link ModelRequests}, {@link RunFileRelay}); at
 * start-up lists past runs and resumes interrupted ones ({@link Recovery}), then beats ({@link
 * Heartbeat}). Deployed as a worker: its handlers may touch the file system. Threads: everything
 * here runs on the verticle's context, except the trainers ({@link TrainerThreads}).
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

  /**
   * Job numbers come from a counter shared by every trainer node of a cluster (Hazelcast's, through
   * Vert.x shared data; a local one otherwise), so two nodes never give out the same number.
   */
  static final String JOB_NUMBERS = "latentstream.job-numbers";

  /** Within a service manager's usual 10 s, with room for the rest of the shutdown. */
  static final int STOP_WAIT_SECONDS = 5;

  private final ServerConfig config;
  private final FrameRenderer renderer;
  private final JobQueue queue;
  private Counter jobNumbers;
  private TrainerThreads threads;
  private RunDirectories runDirs;
  private JobControl control;
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
    threads = new TrainerThreads(vertx, context, config, renderer, events);
    models = new ModelRequests(config, renderer, events);
    runDirs = new RunDirectories(config.runsDir(), queue);
    control = new JobControl(runDirs, queue, threads, events, models::forget);
    heartbeat = new Heartbeat(vertx, queue);
    if (vertx.isClustered()) {
      String name = config.clusterHost() + ":" + config.clusterPort();
      Leases leases = new Leases(vertx, heartbeat.node, name, config.runsDir());
      failover = new Failover(vertx, leases, queue, control, config.runsDir(), heartbeat::beat);
      control.useLeases(leases, name);
      threads.useLeases(leases);
      heartbeat.renewing(failover::renew);
    }
    Recovery recovery = new Recovery(config.runsDir());
    List<Recovery.Found> found = recovery.scan();
    int highest = found.stream().mapToInt(Recovery.Found::num).max().orElse(0);
    long unnumbered = found.stream().filter(f -> f.num() == 0).count();
    return vertx
        .sharedData()
        .getCounter(JOB_NUMBERS)
        .compose(
            c -> {
              jobNumbers = c;
              // New numbers come after every number a run on disk already has, and the runs without
              // one get theirs.
              return atLeast(c, highest).compose(v -> c.getAndAdd(unnumbered));
            })
        .compose(
            first -> {
              List<Job> jobs = number(found, first.intValue() + 1);
              if (failover == null) {
                return Future.succeededFuture(new Failover.Sorted(jobs, List.of()));
              }
              return failover.leases.start().compose(v -> failover.sort(jobs));
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
   * The runs found as jobs: each under its own number, those without one numbered from {@code
   * next}.
   */
  private static List<Job> number(List<Recovery.Found> found, int next) {
    List<Job> jobs = new java.util.ArrayList<>();
    for (Recovery.Found f : found) {
      int num = f.num() > 0 ? f.num() : next++;
      if (f.num() == 0 && f.damage() == null) {
        try {
          new RunIdentity(f.dir().getFileName().toString(), num, f.sweep()).write(f.dir());
        } catch (RuntimeException e) {
          System.getLogger(TrainerVerticle.class.getName())
              .log(
                  System.Logger.Level.WARNING,
                  "cannot keep the number of run " + f.dir() + ": " + e.getMessage());
        }
      }
      jobs.add(Recovery.job(f, num));
    }
    return jobs;
  }

  /**
   * Raises the shared counter to {@code min} unless it is there already (another node may raise it
   * too).
   */
  private static Future<Void> atLeast(Counter c, long min) {
    return c.get()
        .compose(
            now ->
                now >= min
                    ? Future.succeededFuture()
                    : c.compareAndSet(now, min)
                        .compose(set -> set ? Future.succeededFuture() : atLeast(c, min)));
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
    io.vertx.core.Promise<Void> finishesPublished = io.vertx.core.Promise.promise();
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
        case TrainerCommand.Start s -> start(msg, s);
        case TrainerCommand.Control c -> {
          Job j = job(c.job());
          if (c.action() == TrainerCommand.Action.RESUME
              && failover != null
              && !j.is(Job.Status.paused)
              && !j.active()) {
            resumeLeased(msg, j);
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

  /** Admits the job, numbers it (cluster-wide), queues it and launches it if a slot is free. */
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
              .compose(v -> jobNumbers.incrementAndGet())
              .compose(num -> enqueue(m.spec(), num.intValue(), id))
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

  private void start(Message<TrainerCommand> msg, TrainerCommand.Start s) {
    JsonObject grid = StartRequest.grid(config, s);
    if (grid != null) {
      startSweep(msg, StartRequest.sweep(config, s, grid, msg.headers().contains(FROM_OPERATOR)));
      return;
    }
    JobConfig spec = StartRequest.spec(config, s, msg.headers().contains(FROM_OPERATOR));
    if (msg.headers().contains(DEFAULT_JOB)) {
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
    jobNumbers
        .incrementAndGet()
        .onComplete(
            n -> {
              if (n.failed()) {
                msg.fail(
                    ReplyError.UNAVAILABLE, "cannot number the job: " + n.cause().getMessage());
                return;
              }
              enqueue(spec, n.result().intValue(), null)
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
   * Queues a new job; in a failover group it first takes the job's lease and records it in the run
   * directory.
   */
  private Future<Job> enqueue(JobConfig spec, int num, String sweep) {
    String id = runDirs.idFor(spec, num, vertx.isClustered());
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
  private void resumeLeased(Message<TrainerCommand> msg, Job j) {
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
