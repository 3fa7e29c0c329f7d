package dev.latentstream.wire;

import java.util.Map;

/**
 * The end of one epoch: mean training terms per image and the test loss per image (same
 * definition). {@code seconds} covers the epoch's training, test pass and epoch-end frames (the
 * checkpoint comes after); {@code testSeconds} the test pass alone.
 */
public record EpochResult(
    int epoch,
    long step,
    Map<String, Double> trainTerms,
    double testLoss,
    double seconds,
    double testSeconds) {
  public EpochResult {
    trainTerms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(trainTerms));
  }
}
