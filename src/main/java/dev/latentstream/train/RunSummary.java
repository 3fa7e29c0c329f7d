package dev.latentstream.train;

/**
 * How a run ended. {@code error} is non-null only for {@link Status#FAILED}; {@code testLoss} is NaN
 * when no epoch completed.
 */
public record RunSummary(Status status, int epochs, long steps, double testLoss, double secondsPerEpoch, String error) {
  public enum Status {
    COMPLETED,
    STOPPED,
    FAILED
  }
}
