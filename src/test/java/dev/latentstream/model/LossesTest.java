package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentstream.config.JobConfig.ReconLoss;
import dev.latentstream.config.JobConfig.Reduction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class LossesTest {

  static final float[] LOGITS = {2.0f, -1.0f, 0.5f, 30.0f, -3.0f, 0.0f};
  static final float[] TARGET = {1.0f, 0.0f, 0.25f, 0.0f, 0.5f, 1.0f};

  @Test
  void bceIsSummedOverPixelsAndAveragedOverImages() {
    double expected = 0;
    for (int i = 0; i < LOGITS.length; i++) {
      double p = 1 / (1 + Math.exp(-LOGITS[i]));
      // log(1 - p) for logit 30 underflows in float; use the stable form log(1 - p) = -l - log(1 +
      // e^-l).
      double log1mp = -LOGITS[i] - Math.log1p(Math.exp(-LOGITS[i]));
      expected += -(TARGET[i] * Math.log(p) + (1 - TARGET[i]) * log1mp);
    }
    assertSummedPerImageAndAveraged(ReconLoss.bce, expected, 1e-4);
  }

  @Test
  void mseComparesTheSigmoidOutputWithTheTarget() {
    double expected = 0;
    for (int i = 0; i < LOGITS.length; i++) {
      double d = 1 / (1 + Math.exp(-LOGITS[i])) - TARGET[i];
      expected += d * d;
    }
    assertSummedPerImageAndAveraged(ReconLoss.mse, expected, 1e-5);
  }

  /**
   * {@code loss} over the two images of LOGITS/TARGET is {@code expected} (the sum over all six
   * pixels) / 2 with {@link Reduction#sum}, and / 6 with {@link Reduction#mean}.
   */
  static void assertSummedPerImageAndAveraged(ReconLoss loss, double expected, double tolerance) {
    try (PointerScope s = new PointerScope()) {
      Tensor logits = Tensor.create(LOGITS, 2, 3);
      Tensor target = Tensor.create(TARGET, 2, 3);
      assertEquals(
          expected / 2,
          Losses.reconstruction(logits, target, loss, Reduction.sum).item_double(),
          tolerance);
      assertEquals(
          expected / 6,
          Losses.reconstruction(logits, target, loss, Reduction.mean).item_double(),
          tolerance);
    }
  }

  @Test
  void theTensorKlIsTheScalarDefinitionElementByElement() {
    int n = 64;
    float[] mu = new float[n];
    float[] logVar = new float[n];
    java.util.Random random = new java.util.Random(3);
    for (int i = 0; i < n; i++) {
      mu[i] = (float) (4 * random.nextGaussian());
      logVar[i] = (float) (6 * random.nextDouble() - 4);
    }
    try (PointerScope s = new PointerScope()) {
      Tensor terms =
          Losses.klTerms(Tensor.create(mu, 8, 8), Tensor.create(logVar, 8, 8))
              .to(org.bytedeco.pytorch.global.torch.ScalarType.Double)
              .contiguous();
      double[] got = TensorData.doubles(terms);
      for (int i = 0; i < n; i++) {
        double want = Losses.klTerm(mu[i], logVar[i]);
        assertEquals(want, got[i], 1e-5 * Math.max(1, Math.abs(want)), "element " + i);
      }
    }
  }

  @Test
  void klMatchesTheClosedFormForDiagonalGaussians() {
    float[] mu = {0.5f, -1.0f, 0.0f, 2.0f};
    float[] logVar = {0.0f, -0.5f, 1.0f, 0.3f};
    double expected = 0;
    for (int i = 0; i < mu.length; i++) {
      expected += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.exp(logVar[i]));
    }
    try (PointerScope s = new PointerScope()) {
      Tensor m = Tensor.create(mu, 2, 2);
      Tensor lv = Tensor.create(logVar, 2, 2);
      assertEquals(expected / 2, Losses.kl(m, lv, Reduction.sum).item_double(), 1e-5);
      assertEquals(expected / 4, Losses.kl(m, lv, Reduction.mean).item_double(), 1e-5);
      assertEquals(
          0.0,
          Losses.kl(
                  Tensor.create(new float[4], 2, 2),
                  Tensor.create(new float[4], 2, 2),
                  Reduction.sum)
              .item_double(),
          1e-9,
          "the prior itself has no divergence");
    }
  }
}
