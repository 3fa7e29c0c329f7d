package dev.latentstream.train;

import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
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

  /**
   * Refuses a change that {@link JobConfigs#checkLiveSetting} refuses: the spec's bounds, the one
   * rule for the server, the CLI and the tests.
   *
   * @throws IllegalArgumentException with the rule's message, naming the key
   */
  void validate(String key, double value) {
    try {
      JobConfigs.checkLiveSetting(job, key, value);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
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
