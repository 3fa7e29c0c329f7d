package dev.latentstream.explore;

/** Paths between two latent points: straight lines, or great circles (slerp, White 2016). */
public final class Interpolation {
  private Interpolation() {}

  /** {@code steps} points from {@code a} to {@code b} inclusive, laid out point after point. */
  public static float[] path(float[] a, float[] b, int steps, boolean spherical) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "end points differ in size: " + a.length + " vs " + b.length);
    }
    if (steps < 2) {
      throw new IllegalArgumentException("steps must be at least 2, got " + steps);
    }
    int d = a.length;
    float[] out = new float[steps * d];
    double omega = spherical ? angle(a, b) : 0;
    for (int s = 0; s < steps; s++) {
      double t = (double) s / (steps - 1);
      double wa;
      double wb;
      if (spherical && Math.sin(omega) > 1e-6) {
        wa = Math.sin((1 - t) * omega) / Math.sin(omega);
        wb = Math.sin(t * omega) / Math.sin(omega);
      } else {
        wa = 1 - t;
        wb = t;
      }
      for (int i = 0; i < d; i++) {
        out[s * d + i] = (float) (wa * a[i] + wb * b[i]);
      }
    }
    return out;
  }

  private static double angle(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    if (na == 0 || nb == 0) {
      return 0;
    }
    return Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb))));
  }
}
