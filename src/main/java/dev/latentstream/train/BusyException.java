package dev.latentstream.train;

/**
 * An interactive request was refused at once because the trainer's interactive budget is spent or
 * its queue is full; {@link #retryAfterMs} says when asking again is likely to succeed.
 */
public final class BusyException extends RuntimeException {

  private final long retryAfterMs;

  public BusyException(String message, long retryAfterMs) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }
}
