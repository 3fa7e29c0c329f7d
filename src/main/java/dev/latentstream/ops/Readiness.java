package dev.latentstream.ops;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.KnownDataset;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code GET /health} (liveness: the process answers) and {@code GET /ready} (readiness: the
 * trainer answers commands, the runs directory takes a file, the default job's dataset is on disk).
 * Both answer JSON through vertx-health-check: 200 when every check is UP, 503 otherwise. Each
 * check completes before its timeout, always with UP or DOWN and a reason, never with a server
 * path.
 */
final class Readiness {

  static final long TRAINER_TIMEOUT_MS = 2000;
  private static final long CHECK_TIMEOUT_MS = 5000;

  private Readiness() {}

  static HealthCheckHandler liveness(Vertx vertx) {
    long started = System.currentTimeMillis();
    return HealthCheckHandler.create(vertx)
        .register(
            "server",
            p ->
                p.complete(
                    Status.OK(
                        new JsonObject()
                            .put("uptimeSeconds", (System.currentTimeMillis() - started) / 1000))));
  }

  static HealthCheckHandler readiness(Vertx vertx, ServerConfig config) {
    HealthCheckHandler h = HealthCheckHandler.create(vertx);
    h.register(
        "trainer",
        CHECK_TIMEOUT_MS,
        p ->
            vertx
                .eventBus()
                .<JsonObject>request(
                    Addresses.TO_TRAINER,
                    new TrainerCommand.ListJobs(),
                    new DeliveryOptions().setSendTimeout(TRAINER_TIMEOUT_MS))
                .onComplete(
                    ar ->
                        p.complete(
                            ar.succeeded()
                                ? Status.OK(
                                    new JsonObject()
                                        .put(
                                            "jobs", ar.result().body().getJsonArray("jobs").size()))
                                : Status.KO(
                                    new JsonObject().put("reason", trainerDown(ar.cause()))))));
    h.register(
        "runsDir",
        CHECK_TIMEOUT_MS,
        p ->
            vertx
                .executeBlocking(() -> runsDirWritable(config.runsDir()))
                .onComplete(
                    ar ->
                        p.complete(
                            ar.succeeded() && ar.result() == null
                                ? Status.OK()
                                : Status.KO(
                                    new JsonObject()
                                        .put(
                                            "reason",
                                            ar.succeeded()
                                                ? ar.result()
                                                : String.valueOf(ar.cause()))))));
    h.register(
        "datasets",
        CHECK_TIMEOUT_MS,
        p ->
            vertx
                .executeBlocking(() -> datasets(config))
                .onComplete(
                    ar ->
                        p.complete(
                            ar.succeeded() && ar.result().getString("reason") == null
                                ? Status.OK(ar.result())
                                : Status.KO(
                                    ar.succeeded()
                                        ? ar.result()
                                        : new JsonObject()
                                            .put("reason", String.valueOf(ar.cause()))))));
    return h;
  }

  private static String trainerDown(Throwable t) {
    if (t instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
      return "no trainer is deployed";
    }
    if (t instanceof ReplyException r && r.failureType() == ReplyFailure.TIMEOUT) {
      return "the trainer did not answer within " + TRAINER_TIMEOUT_MS + " ms";
    }
    return "the trainer failed to answer: " + t.getMessage();
  }

  /** Null when a file can be created (and removed) in the runs directory, else why not. */
  static String runsDirWritable(Path runsDir) {
    try {
      Files.createDirectories(runsDir);
      Path probe = Files.createTempFile(runsDir, ".ready-", ".tmp");
      Files.delete(probe);
      return null;
    } catch (IOException | SecurityException e) {
      return "runsDir cannot be written (" + e.getClass().getSimpleName() + ")";
    }
  }

  /**
   * Which known datasets are on disk, and whether the default job's is: without it {@code serve}
   * would have to fetch before training. {@code reason} is set when not ready.
   */
  static JsonObject datasets(ServerConfig config) {
    JsonObject out = new JsonObject();
    JsonObject present = new JsonObject();
    for (KnownDataset d : KnownDataset.ALL) {
      present.put(d.name(), Datasets.find(d.name(), config.dataDir()).isPresent());
    }
    out.put("present", present).put("defaultJob", config.defaultJob());
    Path preset = config.jobsDir().resolve(config.defaultJob() + ".json");
    String dataset;
    try {
      dataset = JobConfigs.load(preset).dataset();
    } catch (RuntimeException e) {
      return out.put(
          "reason",
          "the defaultJob preset '" + config.defaultJob() + "' cannot be read from jobsDir");
    }
    boolean known = KnownDataset.byName(dataset).isPresent();
    out.put("dataset", known ? dataset : "(a directory)");
    if (Datasets.find(dataset, config.dataDir()).isEmpty()) {
      out.put(
          "reason",
          known
              ? "dataset "
                  + dataset
                  + " is not on disk; run: latentstream datasets fetch "
                  + dataset
              : "the defaultJob's dataset directory holds no complete IDX set");
    }
    return out;
  }
}
