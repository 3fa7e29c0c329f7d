package dev.latentstream.explore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LatentGeometryTest {

  /** Codes spread mostly along two directions of a 5-d latent, around an offset mean. */
  static LatentGeometry fiveDimensional() {
    Random r = new Random(7);
    int n = 400;
    int d = 5;
    float[] codes = new float[n * d];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      double a = r.nextGaussian() * 3;
      double b = r.nextGaussian() * 1.5;
      codes[i * d] = (float) (1 + a * 0.6 + b * 0.8 + 0.05 * r.nextGaussian());
      codes[i * d + 1] = (float) (-2 + a * 0.8 - b * 0.6 + 0.05 * r.nextGaussian());
      codes[i * d + 2] = (float) (0.5 + 0.05 * r.nextGaussian());
      codes[i * d + 3] = (float) (0.05 * r.nextGaussian());
      codes[i * d + 4] = (float) (3 + 0.05 * r.nextGaussian());
      labels[i] = i % 3;
    }
    return new LatentGeometry(codes, labels, n, d, 3);
  }

  @Test
  void planeToLatentToPlaneIsTheIdentity() {
    LatentGeometry g = fiveDimensional();
    for (float[] uv : new float[][] {{0, 0}, {1.5f, -2}, {-4, 0.25f}}) {
      assertArrayEquals(uv, g.toPlane(g.fromPlane(uv[0], uv[1])), 1e-4f);
    }
  }

  @Test
  void theOriginOfThePlaneIsTheCodesMeanAndTheAxesAreOrthonormal() {
    LatentGeometry g = fiveDimensional();
    assertArrayEquals(g.mean, g.fromPlane(0, 0), 1e-6f);
    double dot = 0;
    double n0 = 0;
    double n1 = 0;
    for (int j = 0; j < g.dims; j++) {
      dot += g.axes[0][j] * g.axes[1][j];
      n0 += g.axes[0][j] * g.axes[0][j];
      n1 += g.axes[1][j] * g.axes[1][j];
    }
    assertEquals(0, dot, 1e-9);
    assertEquals(1, n0, 1e-9);
    assertEquals(1, n1, 1e-9);
    assertEquals(3, g.axisStd[0], 0.4, "the wider spread comes first");
    assertEquals(1.5, g.axisStd[1], 0.2);
  }

  @Test
  void aLatentPointInThePlaneSurvivesTheRoundTrip() {
    LatentGeometry g = fiveDimensional();
    float[] z = g.fromPlane(2, -1);
    float[] uv = g.toPlane(z);
    assertArrayEquals(z, g.fromPlane(uv[0], uv[1]), 1e-4f);
  }

  @Test
  void aTwoDimensionalLatentIsItsOwnPlane() {
    float[] codes = {1, 2, -3, 4, 0.5f, -1};
    LatentGeometry g = new LatentGeometry(codes, new int[3], 3, 2, 1);
    assertArrayEquals(new float[] {-3, 4}, g.toPlane(new float[] {-3, 4}), 0f);
    assertArrayEquals(new float[] {0.25f, -7}, g.fromPlane(0.25f, -7), 0f);
    assertArrayEquals(new float[] {1, 2, -3, 4, 0.5f, -1}, g.projected(), 0f);
  }

  @Test
  void classMeansAverageTheCodesOfEachClass() {
    float[] codes = {0, 0, 2, 2, 10, 10};
    LatentGeometry g = new LatentGeometry(codes, new int[] {0, 0, 1}, 3, 2, 2);
    assertArrayEquals(new float[] {1, 1}, g.classMeans[0], 0f);
    assertArrayEquals(new float[] {10, 10}, g.classMeans[1], 0f);
  }
}
