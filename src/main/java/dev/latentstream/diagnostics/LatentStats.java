package dev.latentstream.diagnostics;

import java.util.function.DoubleBinaryOperator;

/**
 * Accumulates the posteriors (or codes) of a pass over test images and turns them into {@link
 * Diagnostics}. Feed it batch by batch with {@link #add}; per dimension it keeps the running mean
 * and sum of squared deviations of the means (Welford's update, so large offsets lose no precision)
 * and, for variational models, the summed KL to N(0, 1).
 *
 * <p>Not thread-safe: one pass, one thread.
 */
public final class LatentStats {

  /** Burda et al.'s threshold: a dimension is active when Cov_x(E_q[z_d]) exceeds it. */
  public static final double ACTIVE_THRESHOLD = 0.01;

  private final int dims;
  private final boolean variational;
  private final DoubleBinaryOperator klTerm;
  private final double[] mean;
  private final double[] m2;
  private final double[] klSum;
  private long count;

  /**
   * @param klTerm for variational models (vae, conv-vae), whose {@link #add} receives
   *     log-variances: the KL of one dimension of one image from its posterior's mean and
   *     log-variance (the model's own definition, {@code model.Losses::klTerm}, which this package
   *     does not link); null for bare codes
   */
  public LatentStats(int dims, DoubleBinaryOperator klTerm) {
    if (dims < 1) {
      throw new IllegalArgumentException("dims must be at least 1, got " + dims);
    }
    this.dims = dims;
    this.variational = klTerm != null;
    this.klTerm = klTerm;
    this.mean = new double[dims];
    this.m2 = new double[dims];
    this.klSum = new double[dims];
  }

  /**
   * Adds {@code n} images: {@code means} (and {@code logVars} for variational models) laid out
   * image after image, {@code dims} values each.
   */
  public void add(float[] means, float[] logVars, int n) {
    if (means.length < (long) n * dims
        || (variational && (logVars == null || logVars.length < (long) n * dims))) {
      throw new IllegalArgumentException("expected " + n + " x " + dims + " values");
    }
    for (int i = 0; i < n; i++) {
      count++;
      for (int d = 0; d < dims; d++) {
        double mu = means[i * dims + d];
        double delta = mu - mean[d];
        mean[d] += delta / count;
        m2[d] += delta * (mu - mean[d]);
        if (variational) {
          double lv = logVars[i * dims + d];
          klSum[d] += klTerm.applyAsDouble(mu, lv);
        }
      }
    }
  }

  public long count() {
    return count;
  }

  /** Cov_x(E_q[z_d]) per dimension: the sample variance of the means (or codes). */
  public double[] meanVariance() {
    double[] v = new double[dims];
    for (int d = 0; d < dims; d++) {
      v[d] = count > 1 ? m2[d] / (count - 1) : 0;
    }
    return v;
  }

  /** KL per dimension in nats, averaged over the images added (variational models only). */
  public double[] klPerDimension() {
    if (!variational) {
      throw new IllegalStateException("a deterministic encoder has no KL");
    }
    double[] kl = new double[dims];
    for (int d = 0; d < dims; d++) {
      kl[d] = count > 0 ? klSum[d] / count : 0;
    }
    return kl;
  }

  /**
   * How many of the top dimensions {@link Diagnostics#topKFraction} counts: 5, fewer for small
   * latents.
   */
  public static int topK(int dims) {
    return Math.max(1, Math.min(5, dims / 2));
  }

  public Diagnostics result(long step, int epoch) {
    double[] variance = meanVariance();
    int active = 0;
    for (double v : variance) {
      if (v > ACTIVE_THRESHOLD) {
        active++;
      }
    }
    double[] values = variational ? klPerDimension() : variance;
    int k = topK(dims);
    return new Diagnostics(
        step,
        epoch,
        variational ? Diagnostics.KL : Diagnostics.VARIANCE,
        values,
        active,
        k,
        topFraction(values, k));
  }

  /**
   * The share of the (non-negative part of the) total carried by the {@code k} largest values; 0
   * when all are 0.
   */
  static double topFraction(double[] values, int k) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    double total = 0;
    double top = 0;
    for (int i = 0; i < sorted.length; i++) {
      double v = Math.max(0, sorted[i]);
      total += v;
      if (i >= sorted.length - k) {
        top += v;
      }
    }
    return total > 0 ? top / total : 0;
  }
}
