package dev.latentstream.bus;

import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.SettingChange;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the trainer side publishes on {@link Addresses#FROM_TRAINER_EVENTS}, one record per kind,
 * carrying the trainer's own records ({@link EpochResult}, {@link SettingChange}, diagnostics,
 * warnings) as they are. Consumers switch over the sealed type, so a new kind does not compile
 * until every consumer handles it.
 *
 * <p>{@link #toJson} is the one mapping to JSON: the cluster's wire form, and for the kinds viewers
 * receive as they are ({@link #forViewers}: epoch, setting, log, deleted, diagnostics, warning) the
 * protocol message itself, {@code type} and all ({@code web/api/protocol.md}). {@code status} and
 * {@code step} have bus-only forms: viewers get job objects and loss batches made from them.
 */
public sealed interface TrainerEvent {

  /** The job's number ({@code num} in job objects). */
  int job();

  /** A job changed: queued, running, paused, finished, or progress at an epoch end. */
  record Status(int job, JsonObject status) implements TrainerEvent {}

  /** One optimisation step's loss terms (per image), stamped with the wall time it was reported. */
  record Step(int job, long step, int epoch, long timeMillis, Map<String, Double> terms)
      implements TrainerEvent {}

  /** The end of an epoch (the trainer's record, carried as is). */
  record Epoch(int job, EpochResult result) implements TrainerEvent {}

  /** A live setting changed (the trainer's record, carried as is). */
  record Setting(int job, SettingChange change) implements TrainerEvent {}

  /** Progress text about a job, e.g. dataset fetching. */
  record Log(int job, String message) implements TrainerEvent {}

  record Deleted(int job, String jobId) implements TrainerEvent {}

  /** Latent diagnostics on the test set (the trainer's record, carried as is). */
  record Diagnostics(int job, dev.latentstream.diagnostics.Diagnostics diagnostics)
      implements TrainerEvent {}

  /** An alarm about the run (the trainer's record, carried as is). */
  record Warning(int job, dev.latentstream.diagnostics.Warning warning) implements TrainerEvent {}

  /** The protocol's message type, and the wire form's discriminator. */
  static String type(TrainerEvent e) {
    return switch (e) {
      case Status s -> "status";
      case Step s -> "step";
      case Epoch s -> "epoch";
      case Setting s -> "setting";
      case Log s -> "log";
      case Deleted s -> "deleted";
      case Diagnostics s -> "diagnostics";
      case Warning s -> "warning";
    };
  }

  /** Whether viewers receive the event as it is: its {@link #toJson} is a protocol message. */
  static boolean forViewers(TrainerEvent e) {
    return !(e instanceof Status || e instanceof Step);
  }

  /** The event as JSON (see the class comment). */
  static JsonObject toJson(TrainerEvent e) {
    JsonObject j = new JsonObject().put("type", type(e)).put("job", e.job());
    return switch (e) {
      case Status s -> j.put("status", s.status());
      case Step s ->
          j.put("step", s.step())
              .put("epoch", s.epoch())
              .put("time", s.timeMillis())
              .put("terms", new JsonObject(new LinkedHashMap<>(s.terms())));
      case Epoch s -> {
        EpochResult r = s.result();
        yield j.put("epoch", r.epoch())
            .put("step", r.step())
            .put("test", r.testLoss())
            .put("train", new JsonObject(new LinkedHashMap<>(r.trainTerms())))
            .put("seconds", r.seconds())
            .put("testSeconds", r.testSeconds());
      }
      case Setting s ->
          j.put("step", s.change().step())
              .put("epoch", s.change().epoch())
              .put("key", s.change().key())
              .put("value", s.change().value());
      case Log s -> j.put("message", s.message());
      case Deleted s -> j.put("jobId", s.jobId());
      case Diagnostics s -> {
        var d = s.diagnostics();
        JsonArray values = new JsonArray();
        for (double v : d.values()) {
          values.add(v);
        }
        yield j.put("step", d.step())
            .put("epoch", d.epoch())
            .put("kind", d.kind())
            .put("values", values)
            .put("activeUnits", d.activeUnits())
            .put("topK", d.topK())
            .put("topKFraction", d.topKFraction());
      }
      case Warning s ->
          j.put("step", s.warning().step())
              .put("epoch", s.warning().epoch())
              .put("code", s.warning().code())
              .put("message", s.warning().message())
              .put("setting", s.warning().setting());
    };
  }

  /** Reads {@link #toJson}'s form back; a type it does not know fails loudly. */
  static TrainerEvent fromJson(JsonObject j) {
    int job = j.getInteger("job");
    String type = j.getString("type");
    return switch (type) {
      case "status" -> new Status(job, j.getJsonObject("status"));
      case "step" ->
          new Step(
              job,
              j.getLong("step"),
              j.getInteger("epoch"),
              j.getLong("time"),
              doubles(j.getJsonObject("terms")));
      case "epoch" ->
          new Epoch(
              job,
              new EpochResult(
                  j.getInteger("epoch"),
                  j.getLong("step"),
                  doubles(j.getJsonObject("train")),
                  j.getDouble("test"),
                  j.getDouble("seconds"),
                  j.getDouble("testSeconds")));
      case "setting" ->
          new Setting(
              job,
              new SettingChange(
                  j.getLong("step"),
                  j.getInteger("epoch"),
                  j.getString("key"),
                  j.getDouble("value")));
      case "log" -> new Log(job, j.getString("message"));
      case "deleted" -> new Deleted(job, j.getString("jobId"));
      case "diagnostics" -> {
        JsonArray a = j.getJsonArray("values");
        double[] values = new double[a.size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = ((Number) a.getValue(i)).doubleValue();
        }
        yield new Diagnostics(
            job,
            new dev.latentstream.diagnostics.Diagnostics(
                j.getLong("step"),
                j.getInteger("epoch"),
                j.getString("kind"),
                values,
                j.getInteger("activeUnits"),
                j.getInteger("topK"),
                j.getDouble("topKFraction")));
      }
      case "warning" ->
          new Warning(
              job,
              new dev.latentstream.diagnostics.Warning(
                  j.getLong("step"),
                  j.getInteger("epoch"),
                  j.getString("code"),
                  j.getString("message"),
                  j.getString("setting")));
      case null, default ->
          throw new IllegalArgumentException("unknown trainer event type '" + type + "'");
    };
  }

  private static Map<String, Double> doubles(JsonObject o) {
    Map<String, Double> out = new LinkedHashMap<>();
    o.forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).doubleValue()));
    return out;
  }

  /** Identity locally; {@link #toJson} on the wire. */
  final class Codec extends JsonWireCodec<TrainerEvent> {

    public Codec(Class<? extends TrainerEvent> type) {
      super(
          "latentstream-trainer-event-" + type.getSimpleName(),
          TrainerEvent::toJson,
          TrainerEvent::fromJson);
    }
  }
}
