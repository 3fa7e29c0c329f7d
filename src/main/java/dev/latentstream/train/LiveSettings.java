package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfig.ModelType;
import java.util.List;

/**
 * The settings a user may change while a run trains. {@link #validate} runs on the caller's thread and
 * rejects bad changes at once; {@link #apply} runs on the trainer thread before the next step.
 */
final class LiveSettings {

  static final List<String> KEYS = List.of("lr", "beta", "noise", "frameEverySteps");

  private final JobConfig job;
  private volatile double beta;
  private volatile int frameEverySteps;

  LiveSettings(JobConfig job) {
    this.job = job;
    this.beta = job.beta();
    this.frameEverySteps = job.frameEverySteps();
  }

  void validate(String key, double value) {
    if (key == null || !KEYS.contains(key)) {
      throw new IllegalArgumentException("unknown setting '" + key + "' (live settings: " + String.join(", ", KEYS) + ")");
    }
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("setting '" + key + "' must be a finite number, got " + value);
    }
    switch (key) {
      case "lr" -> require(key, value > 0 && value <= 10, "from 0 (exclusive) to 10", value);
      case "beta" -> {
        if (!job.model().variational()) {
          throw new IllegalArgumentException("setting 'beta' applies to vae and conv-vae, not " + job.model().wireName());
        }
        require(key, value >= 0 && value <= 1e6, "from 0 to 1e6", value);
      }
      case "noise" -> {
        if (job.model() != ModelType.dae) {
          throw new IllegalArgumentException("setting 'noise' applies to dae, not " + job.model().wireName());
        }
        double max = job.noise().kind() == JobConfig.NoiseKind.mask ? 1 : 10;
        require(key, value >= 0 && value <= max, "from 0 to " + max, value);
      }
      case "frameEverySteps" -> require(key, value >= 0 && value <= 1_000_000 && value == Math.rint(value),
          "a whole number from 0 (epoch ends only) to 1000000", value);
      default -> throw new IllegalStateException(key);
    }
  }

  private static void require(String key, boolean ok, String range, double value) {
    if (!ok) {
      throw new IllegalArgumentException("setting '" + key + "' must be " + range + ", got " + value);
    }
  }

  void apply(String key, double value) {
    switch (key) {
      case "beta" -> beta = value;
      case "frameEverySteps" -> frameEverySteps = (int) value;
      default -> {
        // lr and noise live in the optimisers and the model; the trainer applies them
      }
    }
  }

  double beta() {
    return beta;
  }

  int frameEverySteps() {
    return frameEverySteps;
  }
}
