package dev.latentstream.server;

import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.train.Checkpoint;
import dev.latentstream.train.RunDirectoryWriter;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
  static final int UNAVAILABLE = 503;

  private final ServerConfig config;
  private final FrameRenderer renderer;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private int nextNum = 1;

  public TrainerVerticle(ServerConfig config, FrameRenderer renderer) {
    this.config = config;
    this.renderer = renderer;
  }

  @Override
  public Future<?> start() {
    loadPastRuns();
    vertx.eventBus().<JsonObject>consumer(Addresses.TO_TRAINER, this::handle);
    return Future.succeededFuture();
  }

  /** Stops every trainer and waits (this is a worker) for their threads, so none outlives Vert.x. */
  @Override
  public Future<?> stop() {
    for (Job j : jobs.values()) {
      Trainer t = j.trainer;
      if (t != null) {
        t.stop();
      }
    }
    for (Thread t : threads) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return Future.succeededFuture();
  }

  private final java.util.List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

  private void handle(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String op = body.getString("op", "");
    try {
      switch (op) {
        case "list" -> msg.reply(new JsonObject().put("jobs", new io.vertx.core.json.JsonArray(
            jobs.values().stream().map(Job::toJson).toList())));
        case "get" -> msg.reply(job(body).toJson().put("runDir", job(body).runDir.toString()));
        case "start" -> msg.reply(startJob(body).toJson());
        case "pause" -> msg.reply(pause(job(body)).toJson());
        case "resume" -> msg.reply(resume(job(body)).toJson());
        case "stop" -> msg.reply(stop(job(body)).toJson());
        case "delete" -> msg.reply(delete(job(body)));
        case "set" -> msg.reply(set(job(body), body));
        case "decode", "encode", "interpolate", "attribute" -> interactive(msg, op, body);
        default -> msg.fail(BAD_REQUEST, "unknown op '" + op + "'");
      }
    } catch (ReplyError e) {
      msg.fail(e.code, e.getMessage());
    } catch (ConfigException | IllegalArgumentException e) {
      msg.fail(BAD_REQUEST, e.getMessage());
    }
  }

  /** A command that cannot be carried out; becomes a failed reply with {@code code}. */
  static final class ReplyError extends RuntimeException {
    final int code;

    ReplyError(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  private Job job(JsonObject body) {
    Object ref = body.getValue("job");
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

  private Job startJob(JsonObject body) {
    JobConfig spec;
    if (body.getValue("preset") instanceof String preset) {
      if (!preset.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ReplyError(BAD_REQUEST, "bad preset name '" + preset + "'");
      }
      Path file = config.jobsDir().resolve(preset + ".json");
      if (!Files.isRegularFile(file)) {
        throw new ReplyError(NOT_FOUND, "unknown preset '" + preset + "'");
      }
      spec = JobConfigs.load(file);
    } else if (body.getValue("spec") instanceof JsonObject s) {
      try {
        spec = JobConfigs.fromJson(JobConfigs.JSON.readTree(s.encode()), "spec", "custom");
      } catch (IOException e) {
        throw new ReplyError(BAD_REQUEST, "spec is not valid JSON");
      }
    } else {
      throw new ReplyError(BAD_REQUEST, "start needs \"preset\" (a name from " + config.jobsDir() + ") or \"spec\" (an object)");
    }
    if (body.getValue("epochs") instanceof Number n) {
      if (n.intValue() < 1) {
        throw new ReplyError(BAD_REQUEST, "\"epochs\" must be at least 1");
      }
      spec = spec.withEpochs(n.intValue());
    }
    long waiting = jobs.values().stream().filter(j -> j.status == Job.Status.queued).count();
    if (waiting >= config.queueLimit() && running() >= config.maxConcurrentJobs()) {
      throw new ReplyError(UNAVAILABLE, "the queue is full (" + config.queueLimit() + " jobs waiting)");
    }
    String id = uniqueId(spec.name());
    Job j = new Job(nextNum++, id, config.runsDir().resolve(id), spec, Job.Status.queued, false);
    jobs.put(id, j);
    queue.add(j);
    publishStatus(j);
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
      RunSummary summary;
      try {
        Dataset data = Datasets.ensure(j.spec.dataset(), config.dataDir(), line -> publishLog(j, line));
        Files.createDirectories(j.runDir);
        Trainer t = new Trainer(j.spec, data, j.runDir, renderer,
            TrainingListener.compose(new RunDirectoryWriter(j.runDir), new EventPublisher(vertx, j)), j.resume);
        j.trainer = t;
        summary = t.run();
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
      case STOPPED -> Job.Status.stopped;
      case FAILED -> Job.Status.failed;
    };
    j.error = s.error();
    j.trainer = null;
    writeStatusFile(j);
    publishStatus(j);
    schedule();
  }

  private Job pause(Job j) {
    if (j.status != Job.Status.running || j.trainer == null) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + ", not running");
    }
    j.trainer.pause();
    j.status = Job.Status.paused;
    publishStatus(j);
    return j;
  }

  /** Resumes a paused job, or re-queues a finished one from its last checkpoint. */
  private Job resume(Job j) {
    if (j.status == Job.Status.paused && j.trainer != null) {
      j.trainer.resume();
      j.status = Job.Status.running;
      publishStatus(j);
      return j;
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
    Job again = new Job(j.num, j.id, j.runDir, spec, Job.Status.queued, true);
    again.step = p.step();
    again.epoch = p.epoch();
    jobs.put(j.id, again);
    queue.add(again);
    publishStatus(again);
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
    if (j.trainer == null || !j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + ", nothing to stop");
    }
    j.trainer.stop();
    return j;
  }

  private JsonObject delete(Job j) {
    if (j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is " + j.status + "; stop it before deleting");
    }
    jobs.remove(j.id);
    try (Stream<Path> files = Files.walk(j.runDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new ReplyError(500, "cannot delete " + j.runDir + ": " + e.getMessage());
    }
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "deleted")
        .put("job", j.num).put("id", j.id));
    return new JsonObject().put("id", j.id).put("deleted", true);
  }

  private JsonObject set(Job j, JsonObject body) {
    if (j.trainer == null || !j.active()) {
      throw new ReplyError(CONFLICT, "job " + j.id + " is not training");
    }
    if (!(body.getValue("key") instanceof String key) || !(body.getValue("value") instanceof Number value)) {
      throw new ReplyError(BAD_REQUEST, "set needs \"key\" (a string) and \"value\" (a number)");
    }
    j.trainer.set(key, value.doubleValue());
    return new JsonObject().put("job", j.id).put("key", key).put("value", value.doubleValue());
  }

  private void interactive(Message<JsonObject> msg, String op, JsonObject body) {
    Job j = job(body);
    Trainer t = j.trainer;
    if (t == null || !j.active() || j.status == Job.Status.queued) {
      throw new ReplyError(CONFLICT, "job " + j.id + " has no live model (it is " + j.status + ")");
    }
    Interactive request = Interactive.parse(op, body);
    CompletableFuture<JsonObject> reply = t.submit(live -> request.run(live, renderer));
    reply.whenComplete((result, error) -> {
      if (error == null) {
        msg.reply(result);
      } else {
        Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
        msg.fail(cause instanceof IllegalArgumentException ? BAD_REQUEST : CONFLICT, String.valueOf(cause.getMessage()));
      }
    });
  }

  private void publishStatus(Job j) {
    j.updatedAtMillis = System.currentTimeMillis();
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "status").put("job", j.toJson()));
  }

  private void publishLog(Job j, String line) {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "log").put("job", j.num)
        .put("message", line));
  }

  private void writeStatusFile(Job j) {
    try {
      Files.createDirectories(j.runDir);
      Files.writeString(j.runDir.resolve("status.json"), j.toJson().encodePrettily());
    } catch (IOException e) {
      publishLog(j, "cannot write status.json: " + e.getMessage());
    }
  }

  /** Lists the runs a previous server left behind, so they can be inspected and resumed. */
  private void loadPastRuns() {
    if (!Files.isDirectory(config.runsDir())) {
      return;
    }
    try (Stream<Path> dirs = Files.list(config.runsDir())) {
      dirs.filter(d -> Files.isRegularFile(d.resolve("job.json"))).sorted().forEach(d -> {
        try {
          JobConfig spec = JobConfigs.load(d.resolve("job.json"));
          Job j = new Job(nextNum++, d.getFileName().toString(), d, spec, Job.Status.stopped, false);
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
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list runs in " + config.runsDir(), e);
    }
  }
}
