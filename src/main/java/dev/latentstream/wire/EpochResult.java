package dev.latentstream.wire;

import java.util.Map;

/**
 * The end of one epoch: mean training terms per image and the test loss per image (same definition).
 * {@code seconds} covers the whole epoch (training, test pass, epoch-end frames, checkpoint);
 * {@code testSeconds} the test pass alone.
 */
public record EpochResult(int epoch, long step, Map<String, Double> trainTerms, double testLoss, double seconds,
    double testSeconds) {
  public EpochResult {
    trainTerms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(trainTerms));
  }
}
