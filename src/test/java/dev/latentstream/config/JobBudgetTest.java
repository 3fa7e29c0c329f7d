package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.testing.ModelParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class JobBudgetTest {

  static final String HUGE =
      "{\"model\":\"ae\",\"hidden\":[65536,65536],\"latent\":4096,\"batchSize\":65536}";

  static JobConfig job(String json) {
    return JobConfigs.parse(json, "test", "test");
  }

  @Test
  void theEstimatedParameterCountIsLibtorchsForEveryPresetArchitectureAndLayout()
      throws IOException {
    List<JobConfig> jobs;
    try (Stream<Path> files = Files.list(Path.of("config/jobs"))) {
      jobs = new java.util.ArrayList<>(files.map(JobConfigs::load).toList());
    }
    for (JobConfig.ModelType type : JobConfig.ModelType.values()) {
      jobs.add(job("{\"model\":\"" + type.wireName() + "\"}"));
    }
    jobs.add(
        job("{\"model\":\"conv-vae\",\"conv\":{\"channels\":[8,16,4],\"dense\":12},\"latent\":3}"));
    jobs.add(job("{\"model\":\"vae\",\"hidden\":[300,100,50]}"));
    jobs.add(job("{\"model\":\"aae\",\"hidden\":[64],\"discriminator\":{\"hidden\":[32,16,8]}}"));
    for (JobConfig j : jobs) {
      try (Autoencoder model = Models.create(j, 28, 28)) {
        assertEquals(
            ModelParameters.count(model),
            JobBudget.estimate(j).parameters(),
            j.name() + " " + j.model());
      }
    }
  }

  @Test
  void adamKeepsTwiceTheStateOfRmsprop() {
    JobBudget.Estimate adam = JobBudget.estimate(job("{\"model\":\"vae\",\"optimizer\":\"adam\"}"));
    JobBudget.Estimate rmsprop =
        JobBudget.estimate(job("{\"model\":\"vae\",\"optimizer\":\"rmsprop\"}"));
    long p = adam.parameters();
    assertEquals(2 * p * 4, adam.parameterBytes(), "parameters and gradients, float32");
    assertEquals(2 * p * 4, adam.optimizerBytes(), "two moments");
    assertEquals(p * 4, rmsprop.optimizerBytes(), "one square average");
  }

  @Test
  void activationsGrowWithTheBatch() {
    long small = JobBudget.estimate(job("{\"model\":\"vae\",\"batchSize\":100}")).activationBytes();
    long large =
        JobBudget.estimate(job("{\"model\":\"vae\",\"batchSize\":1000}")).activationBytes();
    assertEquals(10 * small, large);
    // 784 input, 400 hidden x2, mu and log-variance 20 x2 each, eps and z 20 each, 400 x2, 784 x2,
    // logits and target
    assertEquals(100L * 4 * (784 + 800 + 80 + 40 + 800 + 1568 + 2 * 784), small);
  }

  @Test
  void theHugeSpecFromTheAttackIsRefusedNamingBothFigures() {
    JobConfig huge = job(HUGE);
    long estimate = JobBudget.estimate(huge).totalBytes();
    assertTrue(estimate > 200L << 30, "hundreds of GiB: " + estimate);
    long limit = 16L << 30;
    String message =
        assertThrows(ConfigException.class, () -> JobBudget.check(huge, limit)).getMessage();
    assertTrue(
        message.contains(Long.toString(estimate))
            && message.contains(Long.toString(limit))
            && message.contains("\"maxJobBytes\""),
        message);
  }

  @Test
  void thePresetsFitTheDefaultBudgetOfASmallMachine() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("config/jobs"))) {
      for (JobConfig j : files.map(JobConfigs::load).toList()) {
        JobBudget.check(j, 1L << 30);
        assertTrue(
            JobBudget.estimate(j).totalBytes() < 256L << 20,
            j.name() + ": " + JobBudget.estimate(j));
      }
    }
  }

  @Test
  void theLargestSpecTheRulesAllowIsCountedWithoutOverflow() {
    String hidden = String.join(",", java.util.Collections.nCopies(JobConfigs.MAX_LAYERS, "65536"));
    JobConfig deep =
        job("{\"model\":\"ae\",\"hidden\":[" + hidden + "],\"latent\":4096,\"batchSize\":65536}");
    // 126 layers of 65536 x 65536 weights, x 4 (weights, gradients, two moments) x 4 bytes: 8.7e12;
    // activations: 65536 images x 128 layers x 65536 wide x 2 saved x 4 bytes = 2^42 = 4.4e12
    long total = JobBudget.estimate(deep).totalBytes();
    assertTrue(total > 13e12, "no int overflow or wrap to a small figure: " + total);
    assertThrows(ConfigException.class, () -> JobBudget.check(deep, 1L << 43));
  }
}
