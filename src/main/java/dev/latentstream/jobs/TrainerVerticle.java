package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.Busy;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobAdmission;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.rundir.RunStatus;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.train.BusyException;
import dev.latentstream.train.Devices;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Threads;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Counter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Owns the jobs: a queue, at most {@code maxConcurrentJobs} running, each trainer on a dedicated thread
 * this verticle starts. Answers {@link Addresses#TO_TRAINER} commands; trainers publish their events
 * through {@link EventPublisher}. Deployed as a worker: its handlers may touch the file system.
 */
public final class TrainerVerticle extends VerticleBase {

  /** Failure codes of replies, shared with the protocol's error codes. */
  static final int BAD_REQUEST = 400;
  static final int NOT_FOUND = 404;
  static final int CONFLICT = 409;
  /** The interactive budget is spent: the gateway answers {@code busy} with a retry hint. */
  static final int UNAVAILABLE = 503;
  static final int INTERNAL = 500;

  /**
   * Event-bus header on a {@code start} sent by the process itself (the job given to {@code serve}): its
   * spec is the operator's, not a client's, so it may name any data set path.
   */
  public static final String FROM_OPERATOR = "latentstream-from-operator";

  private final ServerConfig config;
  private final FrameRenderer renderer;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  /**
   * Job numbers come from a counter shared by every trainer node of a cluster (Hazelcast's, through Vert.x
   * shared data; a local one otherwise), so two nodes never give out the same number.
   */
  private Counter jobNumbers;
  static final String JOB_NUMBERS = "latentstream.job-numbers";
  /** This trainer node's name in heartbeats: new every start, so a restarted node is a new node. */
  private final String node = java.util.UUID.randomUUID().toString();
  /** Trainer threads still running, joined on undeploy. */
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  public TrainerVerticle(ServerConfig config, FrameRenderer renderer) {
    this.config = config;
    this.renderer = renderer;
  }

  @Override
  public Future<?> start() {
    List<Path> past = pastRuns();
    return vertx.sharedData().getCounter(JOB_NUMBERS)
        .compose(c -> {
          jobNumbers = c;
          return c.getAndAdd(past.size()); // a block of numbers for the runs found on disk
        })
        .map(first -> {
          loadPastRuns(past, first.intValue() + 1);
          vertx.eventBus().<TrainerCommand>consumer(Addresses.TO_TRAINER, this::handle);
          vertx.eventBus().<TrainerCommand>consumer(Addresses.toTrainer(node), this::handle);
          if (config.resumeInterrupted()) {
            resumeInterrupted();
          }
          heartbeat();
          vertx.setPeriodic(1000, id -> heartbeat());
          return null;
        });
  }

  /** Tells every gateway this node is alive and which jobs it owns. */
  private void heartbeat() {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_HEARTBEAT, new JsonObject().put("node", node)
        .put("jobs", new JsonArray(jobs.values().stream().map(j -> j.num).toList()))
        .put("ids", new JsonArray(jobs.values().stream().map(j -> j.id).toList())));
  }

  /**
   * Stops every trainer and waits (this is a worker) for their threads, so none outlives Vert.x. Each
   * trainer checkpoints its job at the step it stops after (see {@link Trainer#stop}), so the next server
   * continues there. Jobs still queued, running or paused are marked {@code interrupted} first (status.json
   * too), so the next server can resume them even if a trainer does not stop within the wait.
   */
  @Override
  public Future<?> stop() {
    interruptAll();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_SECONDS);
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return Future.succeededFuture();
  }

  /** Within a service manager's usual 10 s, with room for the rest of the shutdown. */
  static final int STOP_WAIT_SECONDS = 5;
  /** The trainer thread's niceness in a process that also serves viewers (0 normal, 19 lowest). */
  static final int TRAINER_NICENESS = 10;

  // --- graceful shutdown and resumption (ops) ---------------------------------------------------

  private void interruptAll() {
    for (Job j : jobs.values()) {
      if (j.active()) {
        queue.remove(j);
        j.status = Job.Status.interrupted;
        writeStatusFile(j);
        publishStatus(j);
      }
      j.stopRequested = true;
      Trainer t = j.trainer;
      if (t != null) {
        t.stop();
      }
    }
  }

  /** Queues again every job a graceful shutdown interrupted: from its checkpoint, else from the start. */
  private void resumeInterrupted() {
    for (Job j : List.copyOf(jobs.values())) {
      if (j.status != Job.Status.interrupted) {
        continue;
      }
      if (Checkpoint.exists(j.runDir)) {
        try {
          resume(j);
        } catch (RuntimeException e) {
          publishLog(j, "cannot resume " + j.id + ": " + e.getMessage());
        }
      } else {
        Job again = new Job(j.num, j.id, j.runDir, j.spec, Job.Status.queued, -1);
        jobs.put(j.id, again);
        queue.add(again);
        publishStatus(again);
        schedule();
      }
    }
  }

  private void handle(Message<TrainerCommand> msg) {
    try {
      switch (msg.body()) {
        case TrainerCommand.ListJobs l -> msg.reply(new JsonObject().put("jobs", new JsonArray(
            jobs.values().stream().map(Job::toJson).toList())));
        case TrainerCommand.GetJob g -> {
          Job j = job(g.job());
          msg.reply(j.toJson().put("runDir", j.runDir.toString()));
        }
        case TrainerCommand.Start s -> {
          JobConfig spec = admit(s, msg.headers().contains(FROM_OPERATOR));
          jobNumbers.incrementAndGet().onComplete(n -> {
            if (n.failed()) {
              msg.fail(UNAVAILABLE, "cannot number the job: " + n.cause().getMessage());
              return;
            }
            try {
              msg.reply(enqueue(spec, n.result().intValue()).toJson());
            } catch (RuntimeException e) {
              msg.fail(INTERNAL, "internal error: " + e);
            }
          });
        }
        case TrainerCommand.Control c -> {
          Job j = job(c.job());
          msg.reply(switch (c.action()) {
            case PAUSE -> pause(j).toJson();
            case RESUME -> resume(j).toJson();
            case STOP -> stop(j).toJson();
            case DELETE -> delete(j);
          });
        }
        case TrainerCommand.Set s -> msg.reply(set(job(s.job()), s.key(), s.value()));
        case TrainerCommand.ModelRequest r -> interactive(msg, r);
        case TrainerCommand.ReadRunFile f -> msg.reply(readRunFile(job(f.job()), f));
      }
    } catch (ReplyError e) {
      msg.fail(e.code, e.getMessage());
    } catch (ConfigException | IllegalArgumentException e) {
      msg.fail(BAD_REQUEST, e.getMessage());
    } catch (RuntimeException e) {
      // Never leave a request unanswered: the caller would wait for the event-bus timeout.
      msg.fail(INTERNAL, "internal error: " + e);
    }
  }

  /** Stop was requested while the dataset was being loaded or fetched. */
  private static final class StoppedBeforeStart extends RuntimeException {}

  /** A command that cannot be carried out; becomes a failed reply with {@code code}. */
  static final class ReplyError extends RuntimeException {
    final int code;

    ReplyError(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  private Job job(Object ref) {
    Job j = null;
    if (ref instanceof String s) {
      j = jobs.get(s);
    } else if (ref instanceof Number n) {
      j = jobs.values().stream().filter(x -> x.num == n.intValue()).findFirst().orElse(null);
    }
    if (j == null) {
      throw new ReplyError(NOT_FOUND, "unknown job " + (ref == null ? "(none given)" : "'" + ref + "'"));
    }
    return j;
  }

  /** The job a start command describes, checked against the server's rules and the queue; throws if refused. */
  private JobConfig admit(TrainerCommand.Start body, boolean fromOperator) {
    JobConfig spec;
    if (body.preset() instanceof String preset) {
      if (!preset.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ReplyError(BAD_REQUEST, "bad preset name '" + preset + "'");
      }
      Path file = config.jobsDir().resolve(preset + ".json");
      if (!Files.isRegularFile(file)) {
        throw new ReplyError(BAD_REQUEST, "unknown preset '" + preset + "' (no " + file + ")");
      }
      spec = JobConfigs.load(file, config.engine());
    } else if (body.spec() instanceof JsonObject s) {
      try {
        spec = JobConfigs.fromJson(JobConfigs.JSON.readTree(s.encode()), "spec", "custom", config.engine());
      } catch (IOException e) {
        throw new ReplyError(BAD_REQUEST, "spec is not valid JSON");
      }
    } else {
      throw new ReplyError(BAD_REQUEST, "start needs \"preset\" (a name from " + config.jobsDir() + ") or \"spec\" (an object)");
    }
    if (body.epochs() != null) {
      spec = spec.withEpochs(body.epochs());
    }
    new JobAdmission(config, Devices.cudaDeviceCount()).check(spec, body.spec() != null && !fromOperator);
    long waiting = jobs.values().stream().filter(j -> j.status == Job.Status.queued).count();
    if (waiting >= config.queueLimit() && running() >= config.maxConcurrentJobs()) {
      throw new ReplyError(UNAVAILABLE, "the queue is full (" + config.queueLimit() + " jobs waiting)");
    }
    return spec;
  }

  private Job enqueue(JobConfig spec, int num) {
    // On a cluster two trainer nodes may start a job of the same name in the same second: the cluster-wide
    // number keeps their ids apart.
    String id = uniqueId(vertx.isClustered() ? spec.name() + "-" + num : spec.name());
    Job j = new Job(num, id, config.runsDir().resolve(id), spec, Job.Status.queued, -1);
    jobs.put(id, j);
    queue.add(j);
    publishStatus(j);
    heartbeat(); // gateways route commands for the new job to this node from now on
    schedule();
    return j;
  }

  private String uniqueId(String name) {
    String base = name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String id = base;
    for (int i = 2; jobs.containsKey(id) || Files.exists(config.runsDir().resolve(id)); i++) {
      id = base + "-" + i;
    }
    return id;
  }

  private long running() {
    return jobs.values().stream().filter(j -> j.status == Job.Status.running || j.status == Job.Status.paused).count();
  }

  private void schedule() {
    while (running() < config.maxConcurrentJobs() && !queue.isEmpty()) {
      launch(queue.poll());
    }
  }

  private void launch(Job j) {
    j.status = Job.Status.running;
    j.startedAtMillis = System.currentTimeMillis();
    j.error = null;
    publishStatus(j);
    threads.add(Thread.ofPlatform().name("trainer-" + j.id).daemon(true).start(() -> {
      if (config.role().runsGateway()) {
        // The event loops in this process answer first; training takes every cycle they leave (200 viewers on
        // 2 cores: loss p99 54-58 ms instead of 59-192 ms, training no slower).
        Threads.lowerPriority(TRAINER_NICENESS);
      }
      RunSummary summary;
      try {
        Dataset data = Datasets.ensure(j.spec.dataset(), config.dataDir(), line -> publishLog(j, line));
        if (j.stopRequested) {
          throw new StoppedBeforeStart();
        }
        Files.createDirectories(j.runDir);
        Trainer t = new Trainer(j.spec, data, new Checkpoint(j.runDir), renderer,
            TrainingListener.compose(new RunDirectoryWriter(j.runDir), new EventPublisher(vertx, j)), j.resumed());
        t.setCores(config.trainerCores());
        // Decode, encode and the like take trainer time: all clients together get at most this much.
        t.setInteractiveBudget(config.interactiveMaxQueued(), config.interactiveBudgetMsPerSecond());
        j.trainer = t;
        // Requests made while the dataset loaded (see Job.pauseRequested).
        if (j.pauseRequested) {
          t.pause();
        }
        if (j.stopRequested) {
          t.stop();
        }
        summary = t.run();
      } catch (StoppedBeforeStart e) {
        summary = new RunSummary(RunSummary.Status.STOPPED, j.epoch, j.step, j.testLoss, Double.NaN, null);
      } catch (IOException | RuntimeException e) {
        summary = new RunSummary(RunSummary.Status.FAILED, j.epoch, j.step, j.testLoss, Double.NaN,
            e instanceof UncheckedIOException u ? u.getCause().getMessage() : String.valueOf(e.getMessage()));
      }
      RunSummary s = summary;
      try {
        context.runOnContext(v -> finished(j, s));
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        writeStatusFile(j);
      }
      threads.remove(Thread.currentThread());
    }));
  }

  private void finished(Job j, RunSummary s) {
    j.status = switch (s.status()) {
      case COMPLETED -> Job.Status.completed;
      case STOPPED -> j.status == Job.Status.interrupted ? Job.Status.interrupted : Job.Status.stopped;
      case FAILED -> Job.Status.failed;
    };
    j.error = s.error();
    j.iwae = s.iwae();
    j.trainer = null;
    writeStatusFile(j);
    publishStatus(j);
    schedule();
  }

  private Job pause(Job j) {
    if (j.status != Job.Status.running) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + ", not running");
    }
    return setPaused(j, true);
  }

  /** Records the request on the job (a trainer still being built picks it up) and tells a running trainer. */
  private Job setPaused(Job j, boolean paused) {
    j.pauseRequested = paused;
    Trainer t = j.trainer;
    if (t != null) {
      if (paused) {
        t.pause();
      } else {
        t.resume();
      }
    }
    j.status = paused ? Job.Status.paused : Job.Status.running;
    publishStatus(j);
    return j;
  }

  /** Resumes a paused job, or re-queues a finished one from its last checkpoint. */
  private Job resume(Job j) {
    if (j.status == Job.Status.paused) {
      return setPaused(j, false);
    }
    if (j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is already " + j.status);
    }
    if (!Checkpoint.exists(j.runDir)) {
      throw new ReplyError(CONFLICT, "job " + j.id + " has no checkpoint to resume from");
    }
    Checkpoint.Progress p = Checkpoint.readProgress(j.runDir);
    JobConfig spec = p.job();
    if (p.epoch() >= spec.epochs()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " already trained all " + spec.epochs() + " epochs");
    }
    Job again = new Job(j.num, j.id, j.runDir, spec, Job.Status.queued, p.step());
    again.epoch = p.epoch();
    jobs.put(j.id, again);
    queue.add(again);
    publishStatus(again);
    publishLog(again, "resuming " + j.id + " from its checkpoint " + p.where() + " (step " + p.step() + ")");
    schedule();
    return again;
  }

  private Job stop(Job j) {
    if (j.status == Job.Status.queued) {
      queue.remove(j);
      j.status = Job.Status.stopped;
      publishStatus(j);
      return j;
    }
    if (!j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + ", nothing to stop");
    }
    j.stopRequested = true;
    Trainer t = j.trainer;
    if (t != null) {
      t.stop();
    }
    return j;
  }

  private JsonObject delete(Job j) {
    if (j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + "; stop it before deleting");
    }
    // A job stopped while queued never made its run directory: there is nothing on disk to remove.
    if (Files.exists(j.runDir)) {
      try (Stream<Path> files = Files.walk(j.runDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        // The reply goes to clients: name the job, not the server's paths (the log has them).
        System.getLogger(TrainerVerticle.class.getName()).log(System.Logger.Level.WARNING,
            "cannot delete " + j.runDir + ": " + e);
        throw new ReplyError(INTERNAL, "cannot delete the files of job " + j.id + "; see the server log");
      }
    }
    jobs.remove(j.id);
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Deleted(j.num, j.id));
    return new JsonObject().put("id", j.id).put("deleted", true);
  }

  private JsonObject set(Job j, String key, double value) {
    if (j.trainer == null || !j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + (j.active() ? " is still starting" : " is not training"));
    }
    if (key == null || !Double.isFinite(value)) {
      throw new ReplyError(BAD_REQUEST, "set needs \"key\" (a string) and \"value\" (a finite number)");
    }
    j.trainer.set(key, value);
    return new JsonObject().put("job", j.id).put("key", key).put("value", value);
  }

  /** A chunk of one of the job's run files, for a gateway without this node's disk (see {@code RemoteRunFiles}). */
  private JsonObject readRunFile(Job j, TrainerCommand.ReadRunFile f) {
    if (f.name() == null || !RunLayout.servable(f.name())) {
      throw new ReplyError(BAD_REQUEST, "not a file a run directory serves: " + f.name());
    }
    if (f.offset() < 0 || f.length() < 1 || f.length() > TrainerCommand.ReadRunFile.MAX_CHUNK) {
      throw new ReplyError(BAD_REQUEST, "a chunk is 1 to " + TrainerCommand.ReadRunFile.MAX_CHUNK
          + " bytes from an offset of 0 or more");
    }
    try (FileChannel ch = FileChannel.open(j.runDir.resolve(f.name()))) {
      long size = ch.size();
      ByteBuffer chunk = ByteBuffer.allocate((int) Math.max(0, Math.min(f.length(), size - f.offset())));
      while (chunk.hasRemaining() && ch.read(chunk, f.offset() + chunk.position()) > 0) {
        // a file channel reads until the end of the file or of the buffer
      }
      return new JsonObject().put("size", size).put("bytes", java.util.Arrays.copyOf(chunk.array(), chunk.position()));
    } catch (NoSuchFileException e) {
      throw new ReplyError(NOT_FOUND, "job " + j.id + " has no " + f.name() + " yet");
    } catch (IOException e) {
      throw new ReplyError(INTERNAL, "cannot read " + f.name() + " of job " + j.id + ": " + e.getMessage());
    }
  }

  private void interactive(Message<TrainerCommand> msg, TrainerCommand.ModelRequest r) {
    Job j = job(r.job());
    Trainer t = j.trainer;
    if (t == null || !j.active() || j.status == Job.Status.queued) {
      throw new ReplyError(CONFLICT, "job " + j.id + " has no live model (it is " + j.status + ")");
    }
    Interactive request = Interactive.parse(r.op(), r.body());
    CompletableFuture<JsonObject> reply = t.submit(live -> {
      long start = System.nanoTime();
      JsonObject result = request.run(live, renderer);
      return result.put(TrainerCommand.ModelRequest.TRAINER_MS, (System.nanoTime() - start) / 1e6);
    });
    reply.whenComplete((result, error) -> {
      if (error == null) {
        msg.reply(result);
      } else {
        Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
        if (cause instanceof BusyException busy) {
          msg.fail(Busy.FAILURE_CODE, new Busy(busy.getMessage(), busy.retryAfterMs()).failureMessage());
        } else {
          msg.fail(cause instanceof IllegalArgumentException ? BAD_REQUEST : CONFLICT, String.valueOf(cause.getMessage()));
        }
      }
    });
  }

  private void publishStatus(Job j) {
    j.updatedAtMillis = System.currentTimeMillis();
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Status(j.num, j.toJson()));
  }

  private void publishLog(Job j, String line) {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new TrainerEvent.Log(j.num, line));
  }

  private void writeStatusFile(Job j) {
    try {
      Files.createDirectories(j.runDir);
      // Whole or not at all: a full disk leaves the last status.json, never half of one.
      AtomicFile.write(j.runDir.resolve(RunStatus.FILE), j.toJson().encodePrettily().getBytes(StandardCharsets.UTF_8));
    } catch (IOException | UncheckedIOException e) {
      publishLog(j, "cannot write status.json: " + e.getMessage());
    }
  }

  /** The run directories a previous server left behind, in name order. */
  private List<Path> pastRuns() {
    if (!Files.isDirectory(config.runsDir())) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(config.runsDir())) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("job.json"))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list runs in " + config.runsDir(), e);
    }
  }

  /** Lists the runs a previous server left behind, numbered from {@code first}, to inspect and resume. */
  private void loadPastRuns(List<Path> past, int first) {
    int num = first;
    for (Path d : past) {
      try {
        JobConfig spec = JobConfigs.load(d.resolve("job.json"));
        Job j = new Job(num++, d.getFileName().toString(), d, spec, Job.Status.stopped, -1);
        if (Files.isRegularFile(d.resolve("status.json"))) {
          JsonObject s = new JsonObject(Files.readString(d.resolve("status.json")));
          Job.Status st = Job.Status.valueOf(s.getString("status", "stopped"));
          j.status = st == Job.Status.running || st == Job.Status.paused || st == Job.Status.queued
              ? Job.Status.stopped : st;
          j.error = s.getString("error");
        }
        if (Checkpoint.exists(d)) {
          Checkpoint.Progress p = Checkpoint.readProgress(d);
          j.step = p.step();
          j.epoch = p.epoch();
        }
        jobs.put(j.id, j);
      } catch (IOException | RuntimeException e) {
        // a damaged run directory is skipped, never fatal: the rest of the server keeps serving
        System.getLogger(TrainerVerticle.class.getName()).log(System.Logger.Level.WARNING,
            "skipping run " + d + ": " + e.getMessage());
      }
    }
  }
}
