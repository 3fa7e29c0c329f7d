package dev.latentstream.wire;

/**
 * The latent scatter as data, for viewers that draw it themselves: up to {@link #MAX_POINTS} test
 * points on the plane (interleaved {@code x, y}) and their class labels. A viewer draws these in a
 * few kilobytes where the rendered scatter costs a hundred or more, and can redraw them at any
 * size.
 */
public record ScatterPoints(int count, float[] xy, byte[] labels) {

  /** Enough to show every class's shape; an even subsample of a bigger test set. */
  public static final int MAX_POINTS = 5000;

  public ScatterPoints {
    if (count < 0 || xy.length != 2 * count || labels.length != count) {
      throw new IllegalArgumentException(
          "count "
              + count
              + " does not match "
              + xy.length / 2
              + " points and "
              + labels.length
              + " labels");
    }
  }

  /**
   * An even subsample of {@code n} points (every k-th, so the same points at every frame and the
   * classes in their test-set proportions); labels above 255 are clamped to 255.
   */
  public static ScatterPoints subsample(float[] xy, int[] labels, int n) {
    int count = Math.min(n, MAX_POINTS);
    float[] outXy = new float[2 * count];
    byte[] outLabels = new byte[count];
    for (int i = 0; i < count; i++) {
      int from = (int) ((long) i * n / count);
      outXy[2 * i] = xy[2 * from];
      outXy[2 * i + 1] = xy[2 * from + 1];
      outLabels[i] = (byte) Math.min(255, Math.max(0, labels[from]));
    }
    return new ScatterPoints(count, outXy, outLabels);
  }
}
