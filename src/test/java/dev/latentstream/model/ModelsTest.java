package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.testing.ModelParameters;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelsTest {

  static JobConfig job(String json) {
    return JobConfigs.parse(json, "test", "test");
  }

  static Tensor batch(int n, int pixels) {
    return torch.rand(n, pixels);
  }

  @Test
  void vaeHasThePytorchExampleLayoutAndParameterCount() {
    MlpVae vae = new MlpVae(job("{\"model\":\"vae\"}"), 28, 28);
    // fc1 784*400+400, fc21/fc22 2*(400*20+20), fc3 20*400+400, fc4 400*784+784: torch's example
    // model.
    assertEquals(314_000 + 16_040 + 8_400 + 314_384, ModelParameters.count(vae));
    try (PointerScope s = new PointerScope()) {
      Autoencoder.Encoded e = vae.encode(batch(5, 784));
      assertArrayEquals(new long[] {5, 20}, e.mean().sizes().vec().get());
      assertArrayEquals(new long[] {5, 20}, e.logVar().sizes().vec().get());
      assertArrayEquals(new long[] {5, 784}, vae.decodeLogits(e.mean()).sizes().vec().get());
      Losses l = vae.losses(batch(5, 784), batch(5, 784), 1.0);
      assertEquals(List.of("recon", "kl", "loss"), List.copyOf(l.terms().keySet()));
      double recon = l.terms().get("recon").item_double();
      double kl = l.terms().get("kl").item_double();
      assertEquals(recon + kl, l.total().item_double(), 1e-3 * (recon + kl));
    }
  }

  @Test
  void betaWeightsTheKlTerm() {
    MlpVae vae = new MlpVae(job("{\"model\":\"vae\",\"hidden\":[16],\"latent\":3}"), 4, 4);
    try (PointerScope s = new PointerScope()) {
      torch.manual_seed(7);
      Tensor x = batch(8, 16);
      torch.manual_seed(3);
      Losses one = vae.losses(x, x, 1.0);
      torch.manual_seed(3);
      Losses four = vae.losses(x, x, 4.0);
      double expected =
          four.terms().get("recon").item_double() + 4 * four.terms().get("kl").item_double();
      assertEquals(expected, four.total().item_double(), 1e-4);
      assertEquals(one.terms().get("kl").item_double(), four.terms().get("kl").item_double(), 1e-6);
    }
  }

  @Test
  void autoencoderFollowsTheConfiguredSizes() {
    MlpAutoencoder ae =
        new MlpAutoencoder(job("{\"model\":\"ae\",\"hidden\":[256,128],\"latent\":64}"), 28, 28);
    assertEquals(
        (784 * 256 + 256)
            + (256 * 128 + 128)
            + (128 * 64 + 64)
            + (64 * 128 + 128)
            + (128 * 256 + 256)
            + (256 * 784 + 784),
        ModelParameters.count(ae));
    try (PointerScope s = new PointerScope()) {
      Autoencoder.Encoded e = ae.encode(batch(3, 784));
      assertArrayEquals(new long[] {3, 64}, e.mean().sizes().vec().get());
      assertNull(e.logVar());
      Tensor out = ae.decode(e.mean());
      assertTrue(
          out.min().item_double() >= 0 && out.max().item_double() <= 1,
          "sigmoid output lies in [0, 1]");
    }
  }

  @Test
  void maskingNoiseAtLevelOneBlanksTheInputAndGaussianNoiseStaysInRange() {
    MlpAutoencoder mask =
        new MlpAutoencoder(
            job("{\"model\":\"dae\",\"noise\":{\"kind\":\"mask\",\"level\":1.0}}"), 4, 4);
    MlpAutoencoder gauss =
        new MlpAutoencoder(
            job("{\"model\":\"dae\",\"noise\":{\"kind\":\"gaussian\",\"level\":2.0}}"), 4, 4);
    try (PointerScope s = new PointerScope()) {
      Tensor x = torch.ones(2, 16);
      assertEquals(0.0, mask.corrupt(x).abs().sum().item_double());
      Tensor noisy = gauss.corrupt(x.mul(new org.bytedeco.pytorch.Scalar(0.5)));
      assertTrue(noisy.min().item_double() >= 0 && noisy.max().item_double() <= 1);
      assertTrue(
          noisy.sub(new org.bytedeco.pytorch.Scalar(0.5)).abs().sum().item_double() > 1,
          "noise was added");
      gauss.setNoiseLevel(0);
      assertTrue(gauss.corrupt(x).equal(x), "level 0 leaves the input alone");
    }
  }

  /**
   * The step's in-place corruption is the allocating one: the same values bit for bit from the same
   * draws, and the generator left where the allocating form leaves it, at every level and kind.
   */
  @ParameterizedTest
  @CsvSource({"gaussian, 0.5", "gaussian, 2.0", "gaussian, 0", "mask, 0.3", "mask, 0"})
  void corruptingIntoAReusedTensorGivesWhatCorruptGivesFromTheSameDraws(String kind, double level) {
    MlpAutoencoder dae =
        new MlpAutoencoder(
            job("{\"model\":\"dae\",\"noise\":{\"kind\":\"" + kind + "\",\"level\":0.5}}"), 4, 4);
    dae.setNoiseLevel(level);
    try (PointerScope s = new PointerScope()) {
      // pixels at 0 and 1 exactly, where the clipping and the mask's edges act
      Tensor x = torch.rand(6, 16);
      x.narrow(0, 0, 1).fill_(new Scalar(0.0));
      x.narrow(0, 1, 1).fill_(new Scalar(1.0));
      Generator allocating = torch.getDefaultCPUGenerator().clone();
      allocating.set_current_seed(7);
      Generator inPlace = allocating.clone();
      Tensor out = torch.full(new long[] {6, 16}, new Scalar(-3.0));
      for (int step = 0; step < 3; step++) {
        dae.drawFrom(allocating);
        Tensor expected = dae.corrupt(x);
        dae.drawFrom(inPlace);
        Tensor actual = dae.corruptInto(x, out);
        assertTrue(actual.equal(expected), kind + " at level " + level + ", step " + step);
        assertTrue(level != 0 || actual.equal(x), "level 0 leaves the input alone");
      }
      assertEquals(
          torch.rand(new long[] {1}, new GeneratorOptional(allocating)).item_double(),
          torch.rand(new long[] {1}, new GeneratorOptional(inPlace)).item_double(),
          "the draws after the noise are the same");
      assertThrows(IllegalArgumentException.class, () -> dae.corruptInto(x, torch.empty(5, 16)));
    }
  }

  @Test
  void convVaeMapsImagesToATwoDimensionalLatentAndBack() {
    ConvVae conv =
        new ConvVae(
            job("{\"model\":\"conv-vae\",\"conv\":{\"channels\":[4,8,8],\"dense\":16}}"), 28, 28);
    try (PointerScope s = new PointerScope()) {
      Autoencoder.Encoded e = conv.encode(batch(2, 784));
      assertArrayEquals(new long[] {2, 2}, e.mean().sizes().vec().get());
      assertArrayEquals(new long[] {2, 784}, conv.decodeLogits(e.mean()).sizes().vec().get());
    }
    assertThrows(
        IllegalArgumentException.class, () -> new ConvVae(job("{\"model\":\"conv-vae\"}"), 27, 27));
  }

  @Test
  void adversarialLossesMatchBinaryCrossEntropyByHand() {
    AdversarialAutoencoder aae =
        new AdversarialAutoencoder(
            job(
                "{\"model\":\"aae\",\"hidden\":[8],\"latent\":2,\"discriminator\":{\"hidden\":[4]}}"),
            4,
            4);
    try (PointerScope s = new PointerScope()) {
      Tensor codes = aae.encode(batch(6, 16)).mean();
      Tensor prior = torch.randn(6, 2);
      float[] real = floats(torch.sigmoid(aae.discriminatorModule().forward(prior)));
      float[] fake = floats(torch.sigmoid(aae.discriminatorModule().forward(codes)));
      double disc = 0;
      double gen = 0;
      for (int i = 0; i < 6; i++) {
        disc += -Math.log(real[i]) / 6 - Math.log(1 - fake[i]) / 6;
        gen += -Math.log(fake[i]) / 6;
      }
      assertEquals(disc, aae.discriminatorLoss(prior, codes).item_double(), 1e-5);
      assertEquals(gen, aae.generatorLoss(codes).item_double(), 1e-5);
    }
  }

  static float[] floats(Tensor t) {
    float[] out = new float[(int) t.numel()];
    t.contiguous().data_ptr_float().get(out);
    return out;
  }
}
