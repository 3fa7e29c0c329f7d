package dev.latentstream.ops;

import dev.latentstream.testing.SyntheticIdx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A server's world on disk for the ops tests: a synthetic dataset written as IDX files, a jobs
 * directory whose {@code tiny} preset trains a small VAE on it, a runs directory and a config file
 * naming them all.
 */
final class OpsFixture {

  final Path root;
  final Path dataDir;
  final Path jobsDir;
  final Path runsDir;
  final Path configFile;

  OpsFixture(Path root, int trainImages, int batchSize, int epochs, int hidden) throws IOException {
    this.root = root;
    dataDir = root.resolve("synthetic");
    jobsDir = root.resolve("jobs");
    runsDir = root.resolve("runs");
    SyntheticIdx.write(dataDir, trainImages, 128, 11);
    Files.createDirectories(jobsDir);
    Files.writeString(
        jobsDir.resolve("tiny.json"),
        new JsonObject()
            .put("model", "vae")
            .put("hidden", new JsonArray().add(hidden))
            .put("latent", 2)
            .put("batchSize", batchSize)
            .put("epochs", epochs)
            .put("frameEverySteps", 0)
            .put("threads", 1)
            .put("dataset", dataDir.toString())
            .encodePrettily());
    configFile = root.resolve("server.json");
    Files.writeString(configFile, config().encodePrettily());
  }

  JsonObject config() {
    return new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("runsDir", runsDir.toString())
        .put("jobsDir", jobsDir.toString())
        .put("defaultJob", "tiny")
        .put("token", "ops-test-token-0123")
        .put("lossBatchMs", 50);
  }

  Path jobFile() {
    return jobsDir.resolve("tiny.json");
  }
}
