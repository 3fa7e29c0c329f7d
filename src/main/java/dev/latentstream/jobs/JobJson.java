package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A {@link Job} as clients see it: the object of {@code list}/{@code get} replies and {@code
 * status} events, and the content of a run's status.json ({@link JobEvents#writeStatusFile}). Reads
 * the job's volatile fields, so any thread may call it; holds no state.
 */
final class JobJson {

  private JobJson() {}

  static JsonObject of(Job job) {
    Job.Status status = job.status();
    JobConfig spec = job.spec;
    if (spec == null) {
      return new JsonObject()
          .put("id", job.id)
          .put("num", job.num)
          .put("status", status.name())
          .put("name", job.id)
          .put("step", job.step)
          .put("epoch", job.epoch)
          .put("progress", 0.0)
          .put("updatedAt", job.updatedAtMillis)
          .put("classes", new JsonArray())
          .put("error", job.error)
          .put("damage", job.damage);
    }
    JsonObject j =
        new JsonObject()
            .put("id", job.id)
            .put("num", job.num)
            .put("status", status.name())
            .put("name", spec.name())
            .put("model", spec.model().wireName())
            .put("dataset", spec.dataset())
            .put("step", job.step)
            .put("epoch", job.epoch)
            .put("epochs", spec.epochs())
            .put("batchesPerEpoch", job.batchesPerEpoch)
            .put(
                "progress",
                job.batchesPerEpoch == 0
                    ? 0.0
                    : Math.min(
                        1.0, job.step / (double) ((long) spec.epochs() * job.batchesPerEpoch)))
            .put("device", job.device)
            .put("engine", job.engine)
            .put("updatedAt", job.updatedAtMillis)
            .put("classes", new JsonArray(job.classes))
            .put("spec", new JsonObject(JobConfigs.toJson(spec)));
    if (Double.isFinite(job.iwae)) {
      j.put("iwae", job.iwae);
    }
    if (Double.isFinite(job.testLoss)) {
      j.put("testLoss", job.testLoss);
    }
    if (Double.isFinite(etaSeconds(job))) {
      j.put("etaSeconds", Math.round(etaSeconds(job)));
    }
    if (job.imagesPerSecond > 0) {
      j.put("imagesPerSecond", Math.round(job.imagesPerSecond));
    }
    if (job.resumed()) {
      j.put("resumedAtStep", job.resumedAtStep);
    }
    if (job.error != null) {
      j.put("error", job.error);
    }
    if (job.sweep != null) {
      j.put("sweep", job.sweep);
    }
    if (job.node != null) {
      j.put("node", job.node);
    }
    j.put("failovers", job.failovers);
    if (job.damage != null) {
      j.put("damage", job.damage);
    }
    if (status == Job.Status.queued) {
      j.put("queuedAt", job.queuedAtMillis);
    }
    return j;
  }

  /** Seconds left at the current pace, or NaN before the first measurement. */
  private static double etaSeconds(Job job) {
    if (!job.is(Job.Status.running) || job.imagesPerSecond <= 0 || job.batchesPerEpoch == 0) {
      return Double.NaN;
    }
    long total = (long) job.spec.epochs() * job.batchesPerEpoch;
    double stepsPerSecond = job.imagesPerSecond / job.spec.batchSize();
    return (total - job.step) / Math.max(stepsPerSecond, 1e-9);
  }
}
