package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Synthetic;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The importance-weighted bound against a case with a known answer, and against the ELBO of a
 * trained VAE.
 */
class IwaeTest {

  /**
   * z ~ N(0, 1), x | z ~ N(z, s²): then p(x) = N(0, 1 + s²) and the posterior is exactly N(x / (1 +
   * s²), s² / (1 + s²)), which this model uses as q. Every importance weight equals p(x).
   */
  static final class LinearGaussian implements Iwae.Model {
    static final double S2 = 0.25;

    @Override
    public int latentDim() {
      return 1;
    }

    @Override
    public Autoencoder.Encoded posterior(Tensor x) {
      Tensor mean = x.div(new Scalar(1 + S2));
      Tensor logVar = torch.full_like(x, new Scalar(Math.log(S2 / (1 + S2))));
      return new Autoencoder.Encoded(mean, logVar);
    }

    @Override
    public Tensor logLikelihood(Tensor z, Tensor x) {
      return z.sub(x.unsqueeze(0))
          .pow(new Scalar(2.0))
          .div(new Scalar(S2))
          .add(new Scalar(Math.log(2 * Math.PI * S2)))
          .mul(new Scalar(-0.5))
          .sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    static double logEvidence(double x) {
      double v = 1 + S2;
      return -0.5 * (x * x / v + Math.log(2 * Math.PI * v));
    }
  }

  /**
   * The conv VAE's decoder holds 32 feature maps of the image per row in the preset: its passes
   * take fewer rows (at the MLP's 4,096 a process evaluating it peaked at 5 GB), and splitting them
   * changes nothing.
   */
  @Test
  void aConvVaeIsDecodedInSmallerPassesWithTheSameResult() {
    try (PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      torch.manual_seed(2);
      Iwae.Model model =
          Iwae.of(
              new ConvVae(
                  JobConfigs.parse(
                      "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},\"latent\":2}",
                      "t",
                      "t"),
                  28,
                  28));
      assertTrue(
          model.decoderRows() * 32 * 784 <= Iwae.DECODER_ROWS * 784,
          "rows per pass " + model.decoderRows() + " hold more than the MLP's activation");
      Tensor z = torch.randn(20, 16, 2);
      Tensor x = torch.rand(16, 784);
      double[] split =
          TensorData.doubles(Iwae.logLikelihood(model, z, x).to(torch.ScalarType.Double).flatten());
      double[] whole =
          TensorData.doubles(model.logLikelihood(z, x).to(torch.ScalarType.Double).flatten());
      assertEquals(whole.length, split.length);
      for (int i = 0; i < whole.length; i++) {
        assertEquals(whole[i], split[i], 1e-3 * Math.abs(whole[i]), "log p(x|z) " + i);
      }
    }
  }

  @Test
  void whenQIsTheTruePosteriorTheBoundIsLogEvidenceForEveryK() {
    float[] xs = {-2f, -0.3f, 0f, 0.7f, 1.9f};
    torch.manual_seed(1);
    try (PointerScope scope = new PointerScope()) {
      Tensor x = TensorData.tensor(xs, xs.length, 1);
      for (int k : new int[] {1, 2, 17, 500}) {
        // A small row budget forces several chunks per image, exercising the running log-sum-exp.
        double[] bound = Iwae.perImage(new LinearGaussian(), x, k, 64, null);
        for (int i = 0; i < xs.length; i++) {
          assertEquals(
              LinearGaussian.logEvidence(xs[i]), bound[i], 1e-4, "K=" + k + ", x=" + xs[i]);
        }
      }
    }
  }

  @Test
  void badArgumentsAreRefused() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = TensorData.tensor(new float[] {0}, 1, 1);
      assertThrows(
          IllegalArgumentException.class,
          () -> Iwae.perImage(new LinearGaussian(), x, 0, 10, null));
      assertThrows(
          IllegalArgumentException.class, () -> Iwae.perImage(new LinearGaussian(), x, 1, 0, null));
    }
  }

  static Autoencoder vae;
  static Tensor images;
  static final int N = 128;

  @BeforeAll
  static void trainATinyVae(@TempDir Path dir) {
    Dataset data = Synthetic.generate(512, N, 42);
    var job =
        JobConfigs.parse(
            "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4,\"batchSize\":32,\"epochs\":3,"
                + "\"frameEverySteps\":0,\"iwaeSamples\":0}",
            "t",
            "t");
    RunSummary s =
        new Trainer(
                job, data, new Checkpoint(dir), Renderers.best(), new TrainingListener() {}, false)
            .run();
    assertEquals(RunSummary.Status.COMPLETED, s.status());
    vae = Checkpoint.loadModel(dir);
    vae.eval();
    images = TensorData.tensor(TensorData.unitFloats(data.test().pixels(), 0, N * 784), N, 784);
  }

  /**
   * The model's own single-sample ELBO, −(recon + KL) at β = 1, over the test images, drawn {@code
   * reps} times.
   */
  static double[] elbo(int reps) {
    double[] out = new double[reps];
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (int r = 0; r < reps; r++) {
        out[r] = -vae.losses(images, images, 1).total().item_double();
      }
    }
    return out;
  }

  /** The bound with {@code k} samples over the test images, drawn {@code reps} times. */
  static double[] iwae(int k, int reps) {
    double[] out = new double[reps];
    for (int r = 0; r < reps; r++) {
      out[r] = Iwae.bound(Iwae.of(vae), images, k, 4096, null);
    }
    return out;
  }

  /** Mean of a − b and its standard error, from independent draws of each. */
  static double[] difference(double[] a, double[] b) {
    double ma = mean(a);
    double mb = mean(b);
    return new double[] {
      ma - mb, Math.sqrt(variance(a, ma) / a.length + variance(b, mb) / b.length)
    };
  }

  static double mean(double[] v) {
    return java.util.Arrays.stream(v).average().orElseThrow();
  }

  static double variance(double[] v, double m) {
    return java.util.Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1);
  }

  @Test
  void withOneSampleTheBoundIsTheElboWithinSamplingNoise() {
    torch.manual_seed(11);
    double[] d = difference(iwae(1, 40), elbo(40));
    assertTrue(Math.abs(d[0]) < 4 * d[1] + 0.01, "IWAE(K=1) − ELBO = " + d[0] + " ± " + d[1]);
  }

  @Test
  void theBoundNeverFallsBelowTheElboAndGrowsWithK() {
    torch.manual_seed(12);
    double[] elbo = elbo(40);
    double[] k8 = iwae(8, 10);
    double[] k128 = iwae(128, 2);
    double[] d8 = difference(k8, elbo);
    double[] d128 = difference(k128, k8);
    assertTrue(d8[0] > 4 * d8[1], "K=8 lies above the ELBO beyond noise: " + d8[0] + " ± " + d8[1]);
    assertTrue(d128[0] > -4 * d128[1], "IWAE(K=128) − IWAE(K=8) = " + d128[0] + " ± " + d128[1]);
  }

  @Test
  void theBoundIsRefusedForModelsWithoutABernoulliPosterior() {
    var ae =
        Models.create(
            JobConfigs.parse("{\"model\":\"ae\",\"hidden\":[8],\"latent\":2}", "t", "t"), 28, 28);
    try {
      assertThrows(IllegalArgumentException.class, () -> Iwae.of(ae));
    } finally {
      ae.close();
    }
  }
}
