package dev.latentstream.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobAdmission;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.config.Sweep;
import dev.latentstream.train.Devices;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a {@code start} command into the job's spec: a preset from {@code jobsDir} or a spec
 * object, with an optional epoch count, checked against the server's rules ({@link JobAdmission}).
 * Runs on the trainer verticle's context (it may read a preset file: the verticle is a worker).
 */
final class StartRequest {

  private StartRequest() {}

  /**
   * The spec {@code body} asks for; {@code fromOperator} is true for the job the process itself was
   * given, which may name any data set path.
   *
   * @throws ReplyError or {@link dev.latentstream.config.ConfigException} if refused
   */
  /**
   * A sweep's grid: the start's {@code sweep}, else its preset file's, else null (an ordinary job).
   */
  static JsonObject grid(ServerConfig config, TrainerCommand.Start body) {
    if (body.sweep() != null) {
      return body.sweep();
    }
    if (body.preset() != null && body.preset().matches("[A-Za-z0-9._-]{1,64}")) {
      Path file = config.jobsDir().resolve(body.preset() + ".json");
      try {
        return Files.isRegularFile(file)
            ? new JsonObject(Files.readString(file)).getJsonObject(Sweep.KEY)
            : null;
      } catch (IOException | RuntimeException e) {
        return null; // spec() reports what is wrong with the file
      }
    }
    return null;
  }

  /**
   * A sweep's members: {@code grid} over the preset or spec (with the epoch override), each
   * admitted as an ordinary job would be. Errors name the key.
   */
  static Sweep sweep(
      ServerConfig config, TrainerCommand.Start body, JsonObject grid, boolean fromOperator) {
    ObjectNode base;
    String defaultName = "custom";
    try {
      if (body.preset() != null) {
        Path file = config.jobsDir().resolve(body.preset() + ".json");
        if (!body.preset().matches("[A-Za-z0-9._-]{1,64}") || !Files.isRegularFile(file)) {
          throw new ReplyError(
              ReplyError.BAD_REQUEST, "unknown preset '" + body.preset() + "' (no " + file + ")");
        }
        base = (ObjectNode) JobConfigs.JSON.readTree(Files.readString(file));
        defaultName = body.preset();
      } else if (body.spec() != null) {
        base = (ObjectNode) JobConfigs.JSON.readTree(body.spec().encode());
      } else {
        throw new ReplyError(ReplyError.BAD_REQUEST, "start needs \"preset\" or \"spec\"");
      }
      base.remove(Sweep.KEY);
      if (body.epochs() != null) {
        base.put("epochs", body.epochs());
      }
      Sweep sweep =
          Sweep.expand(
              base, JobConfigs.JSON.readTree(grid.encode()), "sweep", defaultName, config.engine());
      JobAdmission admission = new JobAdmission(config, Devices.cudaDeviceCount());
      sweep.members().forEach(m -> admission.check(m.spec(), body.spec() != null && !fromOperator));
      return sweep;
    } catch (IOException | ClassCastException e) {
      throw new ReplyError(
          ReplyError.BAD_REQUEST, "the sweep's base is not a JSON object: " + e.getMessage());
    }
  }

  static JobConfig spec(ServerConfig config, TrainerCommand.Start body, boolean fromOperator) {
    JobConfig spec;
    if (body.preset() instanceof String preset) {
      if (!preset.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ReplyError(ReplyError.BAD_REQUEST, "bad preset name '" + preset + "'");
      }
      Path file = config.jobsDir().resolve(preset + ".json");
      if (!Files.isRegularFile(file)) {
        throw new ReplyError(
            ReplyError.BAD_REQUEST, "unknown preset '" + preset + "' (no " + file + ")");
      }
      spec = JobConfigs.load(file, config.engine());
    } else if (body.spec() instanceof JsonObject s) {
      try {
        spec =
            JobConfigs.fromJson(
                JobConfigs.JSON.readTree(s.encode()), "spec", "custom", config.engine());
      } catch (IOException e) {
        throw new ReplyError(ReplyError.BAD_REQUEST, "spec is not valid JSON");
      }
    } else {
      throw new ReplyError(
          ReplyError.BAD_REQUEST,
          "start needs \"preset\" (a name from " + config.jobsDir() + ") or \"spec\" (an object)");
    }
    if (body.epochs() != null) {
      spec = spec.withEpochs(body.epochs());
    }
    new JobAdmission(config, Devices.cudaDeviceCount())
        .check(spec, body.spec() != null && !fromOperator);
    return spec;
  }
}
