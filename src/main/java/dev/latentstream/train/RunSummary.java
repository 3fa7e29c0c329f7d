package dev.latentstream.train;

/**
 * How a run ended. {@code error} is non-null only for {@link Status#FAILED}; {@code testLoss} is
 * NaN when no epoch completed. {@code iwae} is the importance-weighted bound on log p(x) over the
 * test set in nats per image, with the job's {@code iwaeSamples} samples, measured after the final
 * epoch of a completed VAE run (NaN otherwise).
 */
public record RunSummary(
    Status status,
    int epochs,
    long steps,
    double testLoss,
    double secondsPerEpoch,
    String error,
    double iwae) {

  public enum Status {
    COMPLETED,
    STOPPED,
    FAILED
  }

  /** A summary without an IWAE bound. */
  public RunSummary(
      Status status,
      int epochs,
      long steps,
      double testLoss,
      double secondsPerEpoch,
      String error) {
    this(status, epochs, steps, testLoss, secondsPerEpoch, error, Double.NaN);
  }

  public RunSummary withIwae(double bound) {
    return new RunSummary(status, epochs, steps, testLoss, secondsPerEpoch, error, bound);
  }

  /** This run's figures, failed with {@code error} (its files could not be finished). */
  public RunSummary failed(String error) {
    return new RunSummary(Status.FAILED, epochs, steps, testLoss, secondsPerEpoch, error, iwae);
  }
}
