package dev.latentstream.diagnostics;

/**
 * How a model uses its latent dimensions, measured on the test set at one step.
 *
 * <p>{@code kind} is {@code "kl"} for models with a posterior (vae, conv-vae, β-VAE): {@code
 * values} is the KL divergence per latent dimension in nats, averaged over the test images. It is
 * {@code "variance"} for deterministic encoders (ae, dae, aae): {@code values} is the variance of
 * each dimension of the codes. {@code activeUnits} counts dimensions with Cov_x(E_q[z_d]) &gt; 0.01
 * (Burda et al., 2016, §5.2), and {@code topKFraction} is the share of the summed values carried by
 * the {@code topK} largest.
 */
public record Diagnostics(
    long step,
    int epoch,
    String kind,
    double[] values,
    int activeUnits,
    int topK,
    double topKFraction) {

  public static final String KL = "kl";
  public static final String VARIANCE = "variance";

  public Diagnostics {
    if (!KL.equals(kind) && !VARIANCE.equals(kind)) {
      throw new IllegalArgumentException("diagnostics kind must be kl or variance, got " + kind);
    }
    values = values.clone();
  }

  @Override
  public double[] values() {
    return values.clone();
  }

  /**
   * Equal when every component is, the values compared element by element (a record compares arrays
   * by identity).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Diagnostics d
        && step == d.step
        && epoch == d.epoch
        && kind.equals(d.kind)
        && java.util.Arrays.equals(values, d.values)
        && activeUnits == d.activeUnits
        && topK == d.topK
        && Double.compare(topKFraction, d.topKFraction) == 0;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        step, epoch, kind, java.util.Arrays.hashCode(values), activeUnits, topK, topKFraction);
  }
}
