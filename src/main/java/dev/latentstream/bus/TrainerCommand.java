package dev.latentstream.bus;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Requests to the trainer node on {@link Addresses#TO_TRAINER}, one record per command. The reply
 * is a {@link JsonObject} (a job object, or the command's result); a failed reply carries an
 * HTTP-like code (400 bad request, 404 unknown job, 409 conflict, 503 unavailable, 500 internal)
 * and a message naming what was wrong.
 *
 * <p>A job is referred to by its id (a string) or its number; {@link #jobRef} checks which.
 */
public sealed interface TrainerCommand {

  /** Every job, as {@code {"jobs": [...]}}. */
  record ListJobs() implements TrainerCommand {}

  /**
   * One job object, with its run directory under {@code runDir} (for the HTTP side's file routes).
   */
  record GetJob(Object job) implements TrainerCommand {}

  /**
   * Queues a job from a preset in {@code jobsDir} or a spec object; {@code epochs} (nullable)
   * overrides. With a {@code sweep} grid (nullable: {@code {"beta": [1, 4]}}), one job per point of
   * its Cartesian product.
   */
  record Start(String preset, JsonObject spec, Integer epochs, JsonObject sweep)
      implements TrainerCommand {
    public Start(String preset, JsonObject spec, Integer epochs) {
      this(preset, spec, epochs, null);
    }
  }

  /** Pause, resume (also from a checkpoint), stop or delete. */
  record Control(Action action, Object job) implements TrainerCommand {}

  /** A live setting ({@code lr}, {@code beta}, {@code noise}, {@code frameEverySteps}). */
  record Set(Object job, String key, double value) implements TrainerCommand {}

  /**
   * decode, encode, interpolate or attribute against the job's live model; {@code body} is the
   * request. The reply carries the trainer thread's time for it under {@link #TRAINER_MS}, for the
   * gateway to charge to the client that asked (and to take out before the client sees the result).
   */
  record ModelRequest(Object job, String op, JsonObject body) implements TrainerCommand {
    public static final String TRAINER_MS = "trainerMs";
  }

  /**
   * Part of a file in a job's run directory, for a gateway that does not share the trainer node's
   * disk: {@code length} bytes (1 to {@link #MAX_CHUNK}) from {@code offset}. {@code name} is one
   * the run directory serves (metrics.csv, an epoch's frame, the checkpoint). Reply: {@code
   * {"size": the file's bytes, "bytes": the chunk}}; 404 when the run has no such file yet.
   */
  record ReadRunFile(Object job, String name, long offset, int length) implements TrainerCommand {
    public static final int MAX_CHUNK = 1 << 20;
  }

  /**
   * The job's model from its latest checkpoint, exported in {@code format} ({@code pt}, {@code
   * safetensors}), {@code part} {@code all} or {@code decoder}: the trainer node writes the file
   * into the run directory (once per checkpoint) and replies {@code {"file": its name in the run
   * directory (RunLayout.modelFile), "runDir", "step", "epoch", "size"}}; 404 before the first
   * checkpoint, 409 when it does not load.
   */
  /**
   * The job's model exported: from its latest checkpoint, or (one of {@code epoch}, {@code step},
   * the other null) from the one kept at the end of that epoch or the last kept at or before that
   * step.
   */
  record ExportModel(Object job, String format, String part, Integer epoch, Long step)
      implements TrainerCommand {
    /** From the latest checkpoint. */
    public ExportModel(Object job, String format, String part) {
      this(job, format, part, null, null);
    }
  }

  enum Action {
    PAUSE,
    RESUME,
    STOP,
    DELETE;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Action fromWireName(String name) {
      for (Action a : values()) {
        if (a.wireName().equals(name)) {
          return a;
        }
      }
      throw new IllegalArgumentException("unknown action '" + name + "'");
    }
  }

  /** A job id (non-empty string) or number (whole), else IllegalArgumentException. */
  static Object jobRef(Object job) {
    if (job instanceof String s && !s.isEmpty()) {
      return s;
    }
    if (job instanceof Number n && n.doubleValue() == n.intValue()) {
      return n.intValue();
    }
    throw new IllegalArgumentException("\"job\" must be a job id (string) or number");
  }

  /** Identity locally; JSON with an {@code op} on the wire. */
  final class Codec extends JsonWireCodec<TrainerCommand> {

    public Codec(Class<? extends TrainerCommand> type) {
      super("latentstream-trainer-command-" + type.getSimpleName(), Codec::toJson, Codec::fromJson);
    }

    static JsonObject toJson(TrainerCommand c) {
      return switch (c) {
        case ListJobs l -> new JsonObject().put("op", "list");
        case GetJob g -> new JsonObject().put("op", "get").put("job", g.job());
        case Start s ->
            new JsonObject()
                .put("op", "start")
                .put("preset", s.preset())
                .put("spec", s.spec())
                .put("epochs", s.epochs())
                .put("sweep", s.sweep());
        case Control k -> new JsonObject().put("op", k.action().wireName()).put("job", k.job());
        case Set s ->
            new JsonObject()
                .put("op", "set")
                .put("job", s.job())
                .put("key", s.key())
                .put("value", s.value());
        case ModelRequest m ->
            new JsonObject().put("op", m.op()).put("job", m.job()).put("body", m.body());
        case ReadRunFile r ->
            new JsonObject()
                .put("op", "read-file")
                .put("job", r.job())
                .put("name", r.name())
                .put("offset", r.offset())
                .put("length", r.length());
        case ExportModel e ->
            new JsonObject()
                .put("op", "export-model")
                .put("job", e.job())
                .put("format", e.format())
                .put("part", e.part())
                .put("epoch", e.epoch())
                .put("step", e.step());
      };
    }

    static TrainerCommand fromJson(JsonObject j) {
      String op = j.getString("op");
      return switch (op) {
        case "list" -> new ListJobs();
        case "get" -> new GetJob(j.getValue("job"));
        case "start" ->
            new Start(
                j.getString("preset"),
                j.getJsonObject("spec"),
                j.getInteger("epochs"),
                j.getJsonObject("sweep"));
        case "pause", "resume", "stop", "delete" ->
            new Control(Action.fromWireName(op), j.getValue("job"));
        case "set" -> new Set(j.getValue("job"), j.getString("key"), j.getDouble("value"));
        case "decode", "encode", "interpolate", "attribute" ->
            new ModelRequest(j.getValue("job"), op, j.getJsonObject("body"));
        case "read-file" ->
            new ReadRunFile(
                j.getValue("job"),
                j.getString("name"),
                j.getLong("offset"),
                j.getInteger("length"));
        case "export-model" ->
            new ExportModel(
                j.getValue("job"),
                j.getString("format"),
                j.getString("part"),
                j.getInteger("epoch"),
                j.getLong("step"));
        case null, default ->
            throw new IllegalArgumentException("unknown trainer command '" + op + "'");
      };
    }
  }
}
