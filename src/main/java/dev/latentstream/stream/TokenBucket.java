package dev.latentstream.stream;

/**
 * Credit that refills at {@code rate} a second up to one second's worth, and may be overdrawn: the
 * next use waits until the debt is paid back. A client's byte budget and its share of the trainer's
 * time are both one. Not thread-safe: each belongs to one session on its event loop.
 */
final class TokenBucket {

  private double rate;
  private double tokens;
  private long refilledNanos;

  /** Full at the start. */
  TokenBucket(double rate, long nowNanos) {
    this.rate = rate;
    this.tokens = rate;
    this.refilledNanos = nowNanos;
  }

  double rate() {
    return rate;
  }

  /** A new rate; what is left of the current second stays within it. */
  void setRate(double rate) {
    this.rate = rate;
    tokens = Math.min(tokens, rate);
  }

  /** Refills for the time since the last call and says what it holds (below 0 while in debt). */
  double level(long nowNanos) {
    if (nowNanos > refilledNanos) {
      tokens = Math.min(rate, tokens + (nowNanos - refilledNanos) * 1e-9 * rate);
      refilledNanos = nowNanos;
    }
    return tokens;
  }

  /** Takes {@code n} (a negative {@code n} gives back). */
  void take(double n) {
    tokens -= n;
  }

  /** Takes {@code n}, but goes at most one second's worth deeper into debt than it already was. */
  void takeOwingAtMostASecond(double n) {
    tokens = Math.max(tokens - n, Math.min(tokens, 0) - rate);
  }

  /** Milliseconds until it holds credit again, as of its last refill; 0 when it does. */
  long msUntilCredit() {
    return tokens > 0 ? 0 : (long) Math.ceil(-tokens * 1000 / rate) + 1;
  }
}
