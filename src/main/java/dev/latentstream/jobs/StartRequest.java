package dev.latentstream.jobs;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobAdmission;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.train.Devices;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a {@code start} command into the job's spec: a preset from {@code jobsDir} or a spec object, with an
 * optional epoch count, checked against the server's rules ({@link JobAdmission}). Runs on the trainer
 * verticle's context (it may read a preset file: the verticle is a worker).
 */
final class StartRequest {

  private StartRequest() {}

  /**
   * The spec {@code body} asks for; {@code fromOperator} is true for the job the process itself was given,
   * which may name any data set path.
   *
   * @throws ReplyError or {@link dev.latentstream.config.ConfigException} if refused
   */
  static JobConfig spec(ServerConfig config, TrainerCommand.Start body, boolean fromOperator) {
    JobConfig spec;
    if (body.preset() instanceof String preset) {
      if (!preset.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ReplyError(ReplyError.BAD_REQUEST, "bad preset name '" + preset + "'");
      }
      Path file = config.jobsDir().resolve(preset + ".json");
      if (!Files.isRegularFile(file)) {
        throw new ReplyError(ReplyError.BAD_REQUEST, "unknown preset '" + preset + "' (no " + file + ")");
      }
      spec = JobConfigs.load(file, config.engine());
    } else if (body.spec() instanceof JsonObject s) {
      try {
        spec = JobConfigs.fromJson(JobConfigs.JSON.readTree(s.encode()), "spec", "custom", config.engine());
      } catch (IOException e) {
        throw new ReplyError(ReplyError.BAD_REQUEST, "spec is not valid JSON");
      }
    } else {
      throw new ReplyError(ReplyError.BAD_REQUEST, "start needs \"preset\" (a name from " + config.jobsDir()
          + ") or \"spec\" (an object)");
    }
    if (body.epochs() != null) {
      spec = spec.withEpochs(body.epochs());
    }
    new JobAdmission(config, Devices.cudaDeviceCount()).check(spec, body.spec() != null && !fromOperator);
    return spec;
  }
}
