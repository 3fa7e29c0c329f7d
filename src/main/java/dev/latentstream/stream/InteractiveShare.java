package dev.latentstream.stream;

/**
 * One client's share of the trainer's time for interactive model requests: how many it has in
 * flight, and the trainer time (ms) it may still spend, one second's worth at most, below 0 after
 * an expensive request until it has been paid back.
 *
 * <p>Threads: owned by its {@link ClientSession}, on the hub's event loop.
 */
final class InteractiveShare {

  /** Interactive model requests sent to the trainer and not answered yet. */
  private int inFlight;

  /** Null until the first request. */
  private TokenBucket credit;

  int inFlight() {
    return inFlight;
  }

  /**
   * How long this client must wait before it may ask the trainer again, given its share of {@code
   * msPerSecond} of trainer time; 0 when it may ask now.
   */
  long waitMs(int msPerSecond, long nowNanos) {
    if (credit == null) {
      credit = new TokenBucket(msPerSecond, nowNanos);
    }
    credit.level(nowNanos);
    return credit.msUntilCredit();
  }

  /**
   * A request goes to the trainer: it counts as in flight and is charged {@code estimateMs} up
   * front (see {@link #charge}) until {@link #answered}.
   */
  void sent(double estimateMs) {
    charge(estimateMs);
    inFlight++;
  }

  /** The trainer answered (or refused) a request. */
  void answered() {
    inFlight--;
  }

  /**
   * Charges trainer time: a request's expected cost when it goes to the trainer, the difference
   * when the trainer reports what it took, a refund (negative) when it was not run. The credit is
   * held to one second's worth at the next refill.
   */
  void charge(double ms) {
    if (credit != null) {
      credit.take(ms);
    }
  }
}
