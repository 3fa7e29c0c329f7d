package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfig.ModelType;
import dev.latentstream.config.JobConfigs;

/**
 * The settings a user may change while a run trains ({@link JobConfigs#LIVE_KEYS}). {@link
 * #validate} runs on the caller's thread and rejects bad changes at once; {@link #apply} runs on
 * the trainer thread before the next step.
 */
final class LiveSettings {

  private final JobConfig job;
  private volatile double beta;
  private volatile int frameEverySteps;
  private volatile int diagnosticsEverySteps;
  private volatile double freeBits;
  private volatile int klWarmupSteps;

  LiveSettings(JobConfig job) {
    this.job = job;
    this.beta = job.beta();
    this.frameEverySteps = job.frameEverySteps();
    this.diagnosticsEverySteps = job.diagnosticsEverySteps();
    this.freeBits = job.freeBits();
    this.klWarmupSteps = job.klWarmupSteps();
  }

  void validate(String key, double value) {
    if (key == null || !JobConfigs.LIVE_KEYS.contains(key)) {
      throw new IllegalArgumentException(
          "unknown setting '"
              + key
              + "' (live settings: "
              + String.join(", ", JobConfigs.LIVE_KEYS)
              + ")");
    }
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(
          "setting '" + key + "' must be a finite number, got " + value);
    }
    switch (key) {
      case "lr" -> require(key, value > 0 && value <= 10, "from 0 (exclusive) to 10", value);
      case "beta" -> {
        variationalOnly(key);
        require(key, value >= 0 && value <= 1e6, "from 0 to 1e6", value);
      }
      case "noise" -> {
        if (job.model() != ModelType.dae) {
          throw new IllegalArgumentException(
              "setting 'noise' applies to dae, not " + job.model().wireName());
        }
        double max = job.noise().kind() == JobConfig.NoiseKind.mask ? 1 : 10;
        require(key, value >= 0 && value <= max, "from 0 to " + max, value);
      }
      case "frameEverySteps" ->
          require(
              key,
              value >= 0 && value <= 1_000_000 && value == Math.rint(value),
              "a whole number from 0 (epoch ends only) to 1000000",
              value);
      case "freeBits" -> {
        variationalOnly(key);
        require(key, value >= 0 && value <= 1000, "from 0 to 1000 nats per dimension", value);
      }
      case "klWarmupSteps" -> {
        variationalOnly(key);
        require(
            key,
            value >= 0 && value <= 100_000_000 && value == Math.rint(value),
            "a whole number of steps from 0 to 100000000",
            value);
      }
      default -> throw new IllegalStateException(key);
    }
  }

  private void variationalOnly(String key) {
    if (!job.model().variational()) {
      throw new IllegalArgumentException(
          "setting '" + key + "' applies to vae and conv-vae, not " + job.model().wireName());
    }
  }

  private static void require(String key, boolean ok, String range, double value) {
    if (!ok) {
      throw new IllegalArgumentException(
          "setting '" + key + "' must be " + range + ", got " + value);
    }
  }

  void apply(String key, double value) {
    switch (key) {
      case "beta" -> beta = value;
      case "frameEverySteps" -> frameEverySteps = (int) value;
      case "freeBits" -> freeBits = value;
      case "klWarmupSteps" -> klWarmupSteps = (int) value;
      default -> {
        // lr and noise live in the optimisers and the model; the trainer applies them
      }
    }
  }

  double beta() {
    return beta;
  }

  /**
   * β at {@code step}: ramped linearly from 0 over the first {@code klWarmupSteps} steps (Bowman et
   * al., 2016).
   */
  double beta(long step) {
    int warmup = klWarmupSteps;
    return warmup > 0 && step < warmup ? beta * step / warmup : beta;
  }

  double freeBits() {
    return freeBits;
  }

  int diagnosticsEverySteps() {
    return diagnosticsEverySteps;
  }

  /**
   * Headless runs measure diagnostics at epoch ends only (they write one row of them per epoch).
   */
  void diagnosticsAtEpochEndsOnly() {
    diagnosticsEverySteps = 0;
  }

  int frameEverySteps() {
    return frameEverySteps;
  }
}
