package dev.latentstream.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A small labelled image set generated in code, for fast tests: ten classes of 28×28 strokes (bars,
 * crosses, rings, boxes, ...), each drawn with random offset, thickness and intensity.
 * Deterministic for a given seed, and learnable enough that every model's loss clearly falls within
 * a few epochs.
 */
public final class Synthetic {

  public static final int SIDE = 28;
  public static final List<String> CLASS_NAMES =
      List.of("hbar", "vbar", "diag", "antidiag", "cross", "ring", "box", "dot", "corner", "split");

  private Synthetic() {}

  public static Dataset generate(int trainCount, int testCount, long seed) {
    if (trainCount < 1 || testCount < 1) {
      throw new IllegalArgumentException(
          "synthetic dataset needs at least one train and one test image");
    }
    SplittableRandom random = new SplittableRandom(seed);
    return new Dataset(
        "synthetic", split(trainCount, random), split(testCount, random), CLASS_NAMES);
  }

  private static Split split(int count, SplittableRandom random) {
    byte[] pixels = new byte[count * SIDE * SIDE];
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      int label = i % CLASS_NAMES.size();
      labels[i] = (byte) label;
      draw(label, random, pixels, i * SIDE * SIDE);
    }
    return new Split(pixels, labels, count, SIDE, SIDE);
  }

  private static void draw(int label, SplittableRandom r, byte[] px, int base) {
    int dx = r.nextInt(-3, 4);
    int dy = r.nextInt(-3, 4);
    double thick = 1.5 + r.nextDouble() * 1.5;
    double ink = 0.6 + r.nextDouble() * 0.4;
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        double u = x - 13.5 - dx;
        double v = y - 13.5 - dy;
        double d =
            switch (label) {
              case 0 -> Math.abs(v);
              case 1 -> Math.abs(u);
              case 2 -> Math.abs(u - v) / Math.sqrt(2);
              case 3 -> Math.abs(u + v) / Math.sqrt(2);
              case 4 -> Math.min(Math.abs(u), Math.abs(v));
              case 5 -> Math.abs(Math.hypot(u, v) - 7);
              case 6 -> Math.abs(Math.max(Math.abs(u), Math.abs(v)) - 7);
              case 7 -> Math.hypot(u, v) - 3;
              case 8 ->
                  Math.min(
                          Math.abs(u + 6) + Math.max(0, v - 6),
                          Math.abs(v - 6) + Math.max(0, -u - 6))
                      + Math.max(0, -v - 8);
              default -> Math.min(Math.abs(u - 5), Math.abs(u + 5));
            };
        double value = ink * Math.max(0, Math.min(1, thick - d));
        px[base + y * SIDE + x] = (byte) Math.round(value * 255);
      }
    }
  }
}
