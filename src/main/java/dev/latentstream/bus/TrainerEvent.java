package dev.latentstream.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the trainer side publishes on {@link Addresses#FROM_TRAINER_EVENTS}, one record per kind. Consumers
 * switch over the sealed type, so a new kind does not compile until every consumer handles it; the wire
 * form (JSON with a {@code kind}) rejects kinds it does not know.
 */
public sealed interface TrainerEvent {

  /** The job's number ({@code num} in job objects). */
  int job();

  /** A job changed: queued, running, paused, finished, or progress at an epoch end. */
  record Status(int job, JsonObject status) implements TrainerEvent {}

  /** One optimisation step's loss terms (per image), stamped with the wall time it was reported. */
  record Step(int job, long step, int epoch, long timeMillis, Map<String, Double> terms) implements TrainerEvent {}

  record Epoch(int job, int epoch, long step, double testLoss, Map<String, Double> train, double seconds)
      implements TrainerEvent {}

  record Setting(int job, long step, int epoch, String key, double value) implements TrainerEvent {}

  /** Progress text about a job, e.g. dataset fetching. */
  record Log(int job, String message) implements TrainerEvent {}

  record Deleted(int job, String jobId) implements TrainerEvent {}

  /** Latent diagnostics on the test set (the trainer's record, carried as is). */
  record Diagnostics(int job, dev.latentstream.diagnostics.Diagnostics diagnostics) implements TrainerEvent {}

  /** An alarm about the run (the trainer's record, carried as is). */
  record Warning(int job, dev.latentstream.diagnostics.Warning warning) implements TrainerEvent {}

  /** Identity locally; JSON on the wire. */
  final class Codec extends JsonWireCodec<TrainerEvent> {

    public Codec(Class<? extends TrainerEvent> type) {
      super("latentstream-trainer-event-" + type.getSimpleName(), Codec::toJson, Codec::fromJson);
    }

    static JsonObject toJson(TrainerEvent e) {
      JsonObject j = new JsonObject().put("job", e.job());
      return switch (e) {
        case Status s -> j.put("kind", "status").put("status", s.status());
        case Step s -> j.put("kind", "step").put("step", s.step()).put("epoch", s.epoch()).put("time", s.timeMillis())
            .put("terms", new JsonObject(new LinkedHashMap<>(s.terms())));
        case Epoch s -> j.put("kind", "epoch").put("epoch", s.epoch()).put("step", s.step()).put("test", s.testLoss())
            .put("train", new JsonObject(new LinkedHashMap<>(s.train()))).put("seconds", s.seconds());
        case Setting s -> j.put("kind", "setting").put("step", s.step()).put("epoch", s.epoch()).put("key", s.key())
            .put("value", s.value());
        case Log s -> j.put("kind", "log").put("message", s.message());
        case Deleted s -> j.put("kind", "deleted").put("jobId", s.jobId());
        case Diagnostics s -> {
          var d = s.diagnostics();
          JsonArray values = new JsonArray();
          for (double v : d.values()) {
            values.add(v);
          }
          yield j.put("kind", "diagnostics").put("step", d.step()).put("epoch", d.epoch()).put("dkind", d.kind())
              .put("values", values).put("activeUnits", d.activeUnits()).put("topK", d.topK())
              .put("topKFraction", d.topKFraction());
        }
        case Warning s -> j.put("kind", "warning").put("step", s.warning().step()).put("epoch", s.warning().epoch())
            .put("code", s.warning().code()).put("message", s.warning().message()).put("setting", s.warning().setting());
      };
    }

    static TrainerEvent fromJson(JsonObject j) {
      int job = j.getInteger("job");
      String kind = j.getString("kind");
      return switch (kind) {
        case "status" -> new Status(job, j.getJsonObject("status"));
        case "step" -> new Step(job, j.getLong("step"), j.getInteger("epoch"), j.getLong("time"),
            doubles(j.getJsonObject("terms")));
        case "epoch" -> new Epoch(job, j.getInteger("epoch"), j.getLong("step"), j.getDouble("test"),
            doubles(j.getJsonObject("train")), j.getDouble("seconds"));
        case "setting" -> new Setting(job, j.getLong("step"), j.getInteger("epoch"), j.getString("key"),
            j.getDouble("value"));
        case "log" -> new Log(job, j.getString("message"));
        case "deleted" -> new Deleted(job, j.getString("jobId"));
        case "diagnostics" -> {
          JsonArray a = j.getJsonArray("values");
          double[] values = new double[a.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = ((Number) a.getValue(i)).doubleValue();
          }
          yield new Diagnostics(job, new dev.latentstream.diagnostics.Diagnostics(j.getLong("step"), j.getInteger("epoch"),
              j.getString("dkind"), values, j.getInteger("activeUnits"), j.getInteger("topK"), j.getDouble("topKFraction")));
        }
        case "warning" -> new Warning(job, new dev.latentstream.diagnostics.Warning(j.getLong("step"), j.getInteger("epoch"),
            j.getString("code"), j.getString("message"), j.getString("setting")));
        case null, default -> throw new IllegalArgumentException("unknown trainer event kind '" + kind + "'");
      };
    }

    private static Map<String, Double> doubles(JsonObject o) {
      Map<String, Double> out = new LinkedHashMap<>();
      o.forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).doubleValue()));
      return out;
    }
  }
}
