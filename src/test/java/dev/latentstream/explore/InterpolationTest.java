package dev.latentstream.explore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InterpolationTest {

  static final float[] A = {3, 0, 4};
  static final float[] B = {0, 5, 0};

  static float[] point(float[] path, int i, int d) {
    return Arrays.copyOfRange(path, i * d, (i + 1) * d);
  }

  static double norm(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return Math.sqrt(s);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void theEndPointsAreTheInputs(boolean spherical) {
    float[] path = Interpolation.path(A, B, 7, spherical);
    assertEquals(7 * 3, path.length);
    assertArrayEquals(A, point(path, 0, 3), 1e-6f);
    assertArrayEquals(B, point(path, 6, 3), 1e-6f);
  }

  @Test
  void aStraightLineMovesInEqualSteps() {
    float[] path = Interpolation.path(A, B, 3, false);
    assertArrayEquals(new float[] {1.5f, 2.5f, 2f}, point(path, 1, 3), 1e-6f);
  }

  @Test
  void slerpBetweenPointsOfEqualNormKeepsTheNorm() {
    // |A| = |B| = 5; a straight line would dip to 3.54 half way.
    float[] path = Interpolation.path(A, B, 11, true);
    for (int i = 0; i < 11; i++) {
      assertEquals(5.0, norm(point(path, i, 3)), 1e-5, "point " + i);
    }
    assertEquals(Math.sqrt(12.5), norm(point(Interpolation.path(A, B, 3, false), 1, 3)), 1e-5);
  }

  @Test
  void slerpBetweenPointsOfDifferentNormsMovesTheNormSmoothlyBetweenThem() {
    float[] a = {2, 0};
    float[] b = {0, 4};
    float[] path = Interpolation.path(a, b, 5, true);
    double last = norm(a);
    for (int i = 1; i < 5; i++) {
      double n = norm(point(path, i, 2));
      assertEquals(true, n >= Math.min(last, 4) - 1e-5 && n <= 4 + 1e-5, "norm " + n + " at " + i);
      last = n;
    }
  }

  @Test
  void parallelEndPointsFallBackToAStraightLine() {
    float[] path = Interpolation.path(new float[] {1, 1}, new float[] {2, 2}, 3, true);
    assertArrayEquals(new float[] {1.5f, 1.5f}, point(path, 1, 2), 1e-6f);
  }

  @Test
  void mismatchedOrTooShortPathsAreRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> Interpolation.path(A, new float[] {1, 2}, 5, false));
    assertThrows(IllegalArgumentException.class, () -> Interpolation.path(A, B, 1, true));
  }
}
