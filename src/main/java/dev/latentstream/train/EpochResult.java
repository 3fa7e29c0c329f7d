package dev.latentstream.train;

import java.util.Map;

/** The end of one epoch: mean training terms per image and the test loss per image (same definition). */
public record EpochResult(int epoch, long step, Map<String, Double> trainTerms, double testLoss, double seconds) {
  public EpochResult {
    trainTerms = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(trainTerms));
  }
}
