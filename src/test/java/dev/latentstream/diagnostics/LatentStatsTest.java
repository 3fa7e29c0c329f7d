package dev.latentstream.diagnostics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LatentStatsTest {

  @Test
  void klPerDimensionFollowsTheClosedFormAveragedOverImages() {
    LatentStats s = new LatentStats(2, dev.latentstream.model.Losses::klTerm);
    // Image 1: μ = (1, 0), log σ² = (0, log 4); image 2: μ = (-1, 0), log σ² = (0, 0).
    s.add(new float[] {1, 0, -1, 0}, new float[] {0, (float) Math.log(4), 0, 0}, 2);
    double kl0 = 0.5; // -1/2 (1 + 0 - 1 - 1) for both images
    double kl1 = (-0.5 * (1 + Math.log(4) - 4) + 0) / 2;
    assertArrayEquals(new double[] {kl0, kl1}, s.klPerDimension(), 1e-6);
    Diagnostics d = s.result(7, 1);
    assertEquals(Diagnostics.KL, d.kind());
    assertEquals(7, d.step());
    assertEquals(1, d.activeUnits(), "μ varies over images in dimension 0 only");
  }

  @Test
  void activeUnitsCountDimensionsWhoseMeansVaryAboveTheThreshold() {
    LatentStats s = new LatentStats(3, null);
    int n = 1000;
    float[] codes = new float[n * 3];
    for (int i = 0; i < n; i++) {
      codes[i * 3] = (i % 2 == 0 ? 1 : -1); // variance ≈ 1: active
      codes[i * 3 + 1] =
          5 + (i % 2 == 0 ? 0.05f : -0.05f); // variance ≈ 0.0025, big offset: inactive
      codes[i * 3 + 2] = 0; // constant: inactive
    }
    s.add(codes, null, n);
    Diagnostics d = s.result(0, 0);
    assertEquals(Diagnostics.VARIANCE, d.kind());
    assertEquals(1, d.activeUnits());
    assertEquals(1.0, d.values()[0], 1e-2);
    assertEquals(0.0025, d.values()[1], 1e-5);
  }

  @Test
  void topKFractionIsTheShareOfTheLargestValues() {
    assertEquals(0.9, LatentStats.topFraction(new double[] {0.05, 9, 0.95, 0}, 1), 1e-12);
    assertEquals(1.0, LatentStats.topFraction(new double[] {3, 1}, 2), 1e-12);
    assertEquals(0.0, LatentStats.topFraction(new double[] {0, 0, 0}, 1));
    assertEquals(5, LatentStats.topK(20));
    assertEquals(1, LatentStats.topK(2));
  }

  @Test
  void aVariationalPassWithoutLogVariancesIsRefused() {
    LatentStats s = new LatentStats(2, dev.latentstream.model.Losses::klTerm);
    assertThrows(IllegalArgumentException.class, () -> s.add(new float[] {0, 0}, null, 1));
    assertThrows(IllegalStateException.class, () -> new LatentStats(2, null).klPerDimension());
  }
}
