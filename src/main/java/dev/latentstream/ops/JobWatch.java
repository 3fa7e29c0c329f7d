package dev.latentstream.ops;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Follows every job through the trainer's events: keeps the per-job gauges of {@code /metrics} and
 * writes the operator's log lines (queued, started, one line per epoch, paused, resumed, stopped,
 * finished, failed, interrupted, deleted). Only the trainer's events are read; nothing reaches into
 * the trainer side. Handlers run on one event loop; gauges read the volatile fields from the
 * scraping thread.
 */
final class JobWatch {

  static final String LOGGER = "latentstream.jobs";
  private static final Logger LOG = Logger.getLogger(LOGGER);

  /** Every status a job object can carry; each job has one 0/1 gauge per status. */
  static final List<String> STATUSES =
      List.of(
          "queued",
          "running",
          "paused",
          "completed",
          "stopped",
          "failed",
          "interrupted",
          "unreachable");

  private final Vertx vertx;
  private final MeterRegistry registry;
  private final Map<Integer, Tracked> jobs = new HashMap<>();

  /** One job as the events tell it. */
  private static final class Tracked {
    final int num;
    final String id;
    final Tags tags;
    final List<Meter> meters = new ArrayList<>();
    final Set<String> termsShown = ConcurrentHashMap.newKeySet();
    final Map<String, Double> terms = new ConcurrentHashMap<>();
    volatile String status = "";
    volatile long step;
    volatile int epoch;
    volatile int epochs;
    volatile double testLoss = Double.NaN;
    volatile double imagesPerSecond = Double.NaN;
    int batchSize;

    /**
     * A start (not a resume from pause) not yet logged: the line waits for the run to say its
     * engine, which it knows once set up; a run that fails before has no started line, only its
     * failure.
     */
    boolean startPending;

    /** The step and time that open the current rate window and the current epoch's steps. */
    long windowStep = -1;

    long windowMillis;
    long epochFirstStep = -1;
    long epochFirstMillis;
    long epochLastStep;
    long epochLastMillis;

    Tracked(int num, String id) {
      this.num = num;
      this.id = id;
      this.tags = Tags.of("job_id", id, "job_num", Integer.toString(num));
    }
  }

  JobWatch(Vertx vertx, MeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  /** Subscribes to the trainer's events, then learns the jobs that existed before (past runs). */
  void start() {
    vertx.eventBus().<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx
        .eventBus()
        .<JsonObject>request(Addresses.TO_TRAINER, new TrainerCommand.ListJobs())
        .onSuccess(
            reply -> {
              for (Object o : reply.body().getJsonArray("jobs")) {
                JsonObject job = (JsonObject) o;
                if (!jobs.containsKey(job.getInteger("num"))) {
                  Tracked t = track(job);
                  update(t, job);
                  // A job already under way when the watch began (e.g. resumed at start-up) still
                  // gets its line.
                  if (List.of("queued", "running", "paused").contains(t.status)) {
                    transition(t, "", t.status, job);
                  }
                }
              }
            });
  }

  void onEvent(TrainerEvent event) {
    switch (event) {
      case TrainerEvent.Status s -> status(s.status());
      case TrainerEvent.Step s -> {
        Tracked t = jobs.get(s.job());
        if (t != null) {
          step(t, s);
        }
      }
      case TrainerEvent.Epoch e -> {
        Tracked t = jobs.get(e.job());
        if (t != null) {
          epoch(t, e);
        }
      }
      case TrainerEvent.Setting s -> {
        Tracked t = jobs.get(s.job());
        if (t != null) {
          var c = s.change();
          log(
              Level.INFO,
              t,
              "set " + c.key() + " = " + c.value() + " at step " + c.step(),
              fields("setting", t)
                  .put("key", c.key())
                  .put("value", c.value())
                  .put("step", c.step()));
        }
      }
      case TrainerEvent.Log l -> {
        Tracked t = jobs.get(l.job());
        if (t != null) {
          log(Level.INFO, t, l.message(), fields("log", t));
        }
      }
      case TrainerEvent.Diagnostics
              d -> {} // streamed to viewers; the log carries the alarms they raise
      case TrainerEvent.Warning w -> {
        Tracked t = jobs.get(w.job());
        if (t != null) {
          log(
              Level.WARNING,
              t,
              "warning at step " + w.warning().step() + ": " + w.warning().message(),
              fields("warning", t)
                  .put("code", w.warning().code())
                  .put("setting", w.warning().setting())
                  .put("step", w.warning().step()));
        }
      }
      case TrainerEvent.Deleted d -> {
        Tracked t = jobs.remove(d.job());
        if (t != null) {
          t.meters.forEach(registry::remove);
          log(Level.INFO, t, "deleted", fields("deleted", t));
        }
      }
    }
  }

  private void status(JsonObject job) {
    int num = job.getInteger("num");
    Tracked t = jobs.get(num);
    if (t == null || !t.id.equals(job.getString("id"))) {
      if (t != null) {
        t.meters.forEach(registry::remove);
      }
      t = track(job);
    }
    String before = t.status;
    update(t, job);
    String now = t.status;
    if (!now.equals(before)) {
      transition(t, before, now, job);
    }
    if (t.startPending && !now.equals("running")) {
      t.startPending = false;
    }
    String engine = job.getString("engine", "");
    if (t.startPending && !engine.isEmpty()) {
      t.startPending = false;
      String model = job.getString("model", "?");
      String dataset = job.getString("dataset", "?");
      long from = job.getLong("resumedAtStep", -1L);
      String where = from >= 0 ? ", continuing from step " + from : "";
      log(
          Level.INFO,
          t,
          "started: "
              + model
              + " on "
              + dataset
              + ", "
              + t.epochs
              + " epochs"
              + where
              + ", engine "
              + engine,
          fields("started", t)
              .put("model", model)
              .put("dataset", dataset)
              .put("epochs", t.epochs)
              .put("step", t.step)
              .put("engine", engine));
    }
  }

  private Tracked track(JsonObject job) {
    Tracked t = new Tracked(job.getInteger("num"), job.getString("id"));
    jobs.put(t.num, t);
    gauge(t, "latentstream.job.step", "Optimisation steps done", x -> x.step);
    gauge(t, "latentstream.job.epoch", "Epochs completed", x -> x.epoch);
    gauge(t, "latentstream.job.epochs", "Epochs the job trains for", x -> x.epochs);
    gauge(
        t,
        "latentstream.job.test.loss",
        "Test loss per image after the last epoch",
        x -> x.testLoss);
    gauge(
        t,
        "latentstream.job.images.per.second",
        "Training images per second, over the last second or more",
        x -> x.imagesPerSecond);
    for (String s : STATUSES) {
      t.meters.add(
          Gauge.builder("latentstream.job.status", t, x -> x.status.equals(s) ? 1 : 0)
              .tags(t.tags)
              .tag("status", s)
              .description("1 for the job's current status, else 0")
              .register(registry));
    }
    return t;
  }

  private void gauge(
      Tracked t, String name, String help, java.util.function.ToDoubleFunction<Tracked> f) {
    t.meters.add(Gauge.builder(name, t, f).tags(t.tags).description(help).register(registry));
  }

  private static void update(Tracked t, JsonObject job) {
    t.status = job.getString("status", "");
    t.step = job.getLong("step", t.step);
    t.epoch = job.getInteger("epoch", t.epoch);
    t.epochs = job.getInteger("epochs", t.epochs);
    if (job.getValue("testLoss") instanceof Number n) {
      t.testLoss = n.doubleValue();
    }
    JsonObject spec = job.getJsonObject("spec");
    if (spec != null && spec.getValue("batchSize") instanceof Number n) {
      t.batchSize = n.intValue();
    }
  }

  private void step(Tracked t, TrainerEvent.Step s) {
    t.step = s.step();
    s.terms().forEach(t.terms::put);
    for (String term : s.terms().keySet()) {
      if (t.termsShown.add(term)) {
        t.meters.add(
            Gauge.builder("latentstream.job.loss", t.terms, m -> m.getOrDefault(term, Double.NaN))
                .tags(t.tags)
                .tag("term", term)
                .description("The latest step's loss terms, per image")
                .register(registry));
      }
    }
    // Images per second over windows of at least a second, from the steps' own timestamps.
    if (t.windowStep < 0 || s.step() < t.windowStep) {
      t.windowStep = s.step();
      t.windowMillis = s.timeMillis();
    } else if (s.timeMillis() - t.windowMillis >= 1000 && t.batchSize > 0) {
      t.imagesPerSecond =
          (s.step() - t.windowStep) * t.batchSize * 1000.0 / (s.timeMillis() - t.windowMillis);
      t.windowStep = s.step();
      t.windowMillis = s.timeMillis();
    }
    if (t.epochFirstStep < 0) {
      t.epochFirstStep = s.step();
      t.epochFirstMillis = s.timeMillis();
    }
    t.epochLastStep = s.step();
    t.epochLastMillis = s.timeMillis();
  }

  private void epoch(Tracked t, TrainerEvent.Epoch event) {
    var e = event.result();
    t.epoch = e.epoch();
    t.step = e.step();
    t.testLoss = e.testLoss();
    // The epoch's training rate: its steps after the first, over the time they took.
    double rate = Double.NaN;
    if (t.epochFirstStep >= 0 && t.epochLastMillis > t.epochFirstMillis && t.batchSize > 0) {
      rate =
          (t.epochLastStep - t.epochFirstStep)
              * t.batchSize
              * 1000.0
              / (t.epochLastMillis - t.epochFirstMillis);
    }
    t.epochFirstStep = -1;
    if (Double.isFinite(rate)) {
      t.imagesPerSecond = rate;
    }
    JsonObject f =
        fields("epoch", t)
            .put("epoch", e.epoch())
            .put("epochs", t.epochs)
            .put("step", e.step())
            .put("testLoss", e.testLoss())
            .put("seconds", round(e.seconds(), 2));
    if (Double.isFinite(rate)) {
      f.put("imagesPerSecond", Math.round(rate));
    }
    log(
        Level.INFO,
        t,
        String.format(
            Locale.ROOT,
            "epoch %d/%d: test loss %.4f, %.1f s, %s images/s",
            e.epoch(),
            t.epochs,
            e.testLoss(),
            e.seconds(),
            Double.isFinite(rate) ? Long.toString(Math.round(rate)) : "?"),
        f);
  }

  private void transition(Tracked t, String before, String now, JsonObject job) {
    String model = job.getString("model", "?");
    String dataset = job.getString("dataset", "?");
    switch (now) {
      case "queued" ->
          log(
              Level.INFO,
              t,
              "queued: " + model + " on " + dataset + ", " + t.epochs + " epochs",
              fields("queued", t)
                  .put("model", model)
                  .put("dataset", dataset)
                  .put("epochs", t.epochs));
      case "running" -> {
        if (before.equals("paused")) {
          log(Level.INFO, t, "resumed at step " + t.step, fields("resumed", t).put("step", t.step));
        } else {
          t.startPending = true;
        }
      }
      case "paused" ->
          log(Level.INFO, t, "paused at step " + t.step, fields("paused", t).put("step", t.step));
      case "stopped" ->
          log(
              Level.INFO,
              t,
              "stopped at step " + t.step + " (epoch " + t.epoch + "/" + t.epochs + ")",
              fields("stopped", t)
                  .put("step", t.step)
                  .put("epoch", t.epoch)
                  .put("epochs", t.epochs));
      case "completed" ->
          log(
              Level.INFO,
              t,
              String.format(
                  Locale.ROOT,
                  "finished: %d epochs, %d steps, test loss %.4f",
                  t.epoch,
                  t.step,
                  t.testLoss),
              fields("finished", t)
                  .put("epochs", t.epoch)
                  .put("step", t.step)
                  .put("testLoss", finite(t.testLoss)));
      case "failed" -> {
        String error = job.getString("error", "unknown error");
        log(
            Level.SEVERE,
            t,
            "failed at step " + t.step + ": " + error,
            fields("failed", t).put("step", t.step).put("error", error));
      }
      case "interrupted" ->
          log(
              Level.INFO,
              t,
              "interrupted by shutdown at step " + t.step,
              fields("interrupted", t).put("step", t.step));
      default -> log(Level.INFO, t, now, fields(now, t));
    }
  }

  private static JsonObject fields(String event, Tracked t) {
    return new JsonObject().put("event", event).put("job", t.id).put("num", t.num);
  }

  private static void log(Level level, Tracked t, String message, JsonObject fields) {
    LogRecord r = new LogRecord(level, "job " + t.num + " " + t.id + " " + message);
    r.setLoggerName(LOGGER);
    r.setParameters(new Object[] {new LinkedHashMap<>(fields.getMap())});
    LOG.log(r);
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static double round(double v, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(v * scale) / scale;
  }
}
