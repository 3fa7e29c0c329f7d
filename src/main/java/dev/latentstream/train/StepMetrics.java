package dev.latentstream.train;

import java.util.Map;

/**
 * One optimisation step. {@code terms} keeps the model's loss terms in a stable order, each per
 * image (for example {@code recon}, {@code kl}, {@code loss}; the adversarial autoencoder reports
 * {@code recon}, {@code disc}, {@code gen}).
 */
public record StepMetrics(
    long step,
    int epoch,
    int batch,
    int batchesPerEpoch,
    Map<String, Double> terms,
    double imagesPerSecond,
    double elapsedSeconds) {

  public StepMetrics {
    terms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(terms));
  }

  /** The quantity the optimiser minimises, per image. */
  public double loss() {
    return terms.getOrDefault("loss", terms.values().iterator().next());
  }
}
