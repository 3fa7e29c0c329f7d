package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused VAE step (native BCE-with-logits and gradient) trains exactly as libtorch's own loss
 * does.
 */
class StepRuleTest {

  static MlpVae model(String reduction) {
    torch.manual_seed(3);
    return new MlpVae(
        TrainerTest.job(
            "{\"model\":\"vae\",\"hidden\":[32],\"latent\":3,\"reduction\":\"" + reduction + "\"}"),
        28,
        28);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sum", "mean"})
  void theFusedStepGivesTheSameLossesAndWeightsAsTheStandardOne(String reduction) {
    sameAsStandard(
        reduction,
        b ->
            new StepRule.FusedVae(
                b,
                Optimizers.create(b.job().optimizer(), b.parameters(), 1e-2),
                Kernels.training()));
  }

  /** With two threads, Adam and the BCE pass are split between the trainer thread and a helper. */
  @ParameterizedTest
  @CsvSource({"sum, 1", "mean, 1", "sum, 2", "mean, 2"})
  void theHandWrittenStepGivesTheSameLossesAndWeightsAsTheStandardOneOnOneOrTwoThreads(
      String reduction, int threads) {
    sameAsStandard(
        reduction,
        b -> {
          var optimizer = Optimizers.create(b.job().optimizer(), b.parameters(), 1e-2);
          assertTrue(
              MlpVaeStep.supports(b, optimizer, Kernels.training()),
              "the default VAE takes the hand-written step");
          // room for 48 images: the 32-image batches exercise a batch smaller than the buffers
          return new MlpVaeStep(b, optimizer, Kernels.training(), 48, threads);
        });
  }

  private static void sameAsStandard(
      String reduction, java.util.function.Function<MlpVae, StepRule> rule) {
    MlpVae a = model(reduction);
    MlpVae b = model(reduction);
    StepRule standard =
        new StepRule.Standard(a, Optimizers.create(a.job().optimizer(), a.parameters(), 1e-2));
    StepRule fused = rule.apply(b);
    var train = TrainerTest.DATA.train();
    Tensor all = TensorData.unitImages(train, 256);
    try {
      for (int i = 0; i < 20; i++) {
        if (i == 5) {
          // Wrappers the rules hold must outlive any temporary they came from: a collection here
          // once crashed.
          System.gc();
        }
        try (PointerScope s = new PointerScope()) {
          Tensor x = all.narrow(0, (i * 32) % 256, 32);
          double freeBits = i >= 10 ? 0.5 : 0; // the second half with free bits
          torch.manual_seed(100 + i);
          Map<String, Double> expected = standard.step(x, 1.5, freeBits);
          torch.manual_seed(100 + i);
          Map<String, Double> actual = fused.step(x, 1.5, freeBits);
          assertEquals(expected.keySet(), actual.keySet());
          for (String k : expected.keySet()) {
            assertEquals(
                expected.get(k),
                actual.get(k),
                1e-4 * Math.abs(expected.get(k)) + 1e-6,
                k + " at step " + i);
          }
        }
      }
      var pa = a.parameters();
      var pb = b.parameters();
      for (long i = 0; i < pa.size(); i++) {
        double diff = pa.get(i).sub(pb.get(i)).abs().max().item_double();
        assertTrue(diff < 1e-4, "parameter " + i + " differs by " + diff);
      }
    } finally {
      all.close();
      standard.optimizers().forEach(o -> o.close());
      fused.close();
      fused.optimizers().forEach(o -> o.close());
      a.close();
      b.close();
    }
  }

  /**
   * The dae's step corrupts into a tensor it reuses (a smaller last batch into part of it) and
   * reads its one loss term once: the losses and weights are bit for bit those of the allocating
   * step it replaced (corrupt, forward, read each term, backward, Adam).
   */
  @ParameterizedTest
  @ValueSource(strings = {"gaussian", "mask"})
  void theDenoisingStepTrainsAsTheAllocatingOneBitForBit(String kind) {
    String json =
        "{\"model\":\"dae\",\"hidden\":[32],\"latent\":3,\"batchSize\":24,"
            + "\"noise\":{\"kind\":\""
            + kind
            + "\",\"level\":0.4}}";
    torch.manual_seed(5);
    MlpAutoencoder a = new MlpAutoencoder(TrainerTest.job(json), 28, 28);
    torch.manual_seed(5);
    MlpAutoencoder b = new MlpAutoencoder(TrainerTest.job(json), 28, 28);
    Optim expectedAdam = Optimizers.create(a.job().optimizer(), a.parameters(), 1e-2);
    StepRule rule =
        new StepRule.Standard(b, Optimizers.create(b.job().optimizer(), b.parameters(), 1e-2));
    Tensor all = TensorData.unitImages(TrainerTest.DATA.train(), 256);
    try {
      int from = 0;
      for (int size : new int[] {24, 24, 17, 24}) {
        try (PointerScope s = new PointerScope()) {
          Tensor x = all.narrow(0, from, size);
          from += size;
          torch.manual_seed(300 + from);
          Tensor input = a.corrupt(x);
          Losses losses = a.losses(input, x, 1, 0);
          double expected = losses.total().item_double();
          expectedAdam.zeroGrad();
          losses.total().backward();
          expectedAdam.step();
          torch.manual_seed(300 + from);
          Map<String, Double> actual = rule.step(x, 1, 0);
          assertEquals(Map.of("recon", expected, "loss", expected), actual, "batch of " + size);
        }
      }
      var pa = a.parameters();
      var pb = b.parameters();
      for (long i = 0; i < pa.size(); i++) {
        assertTrue(pa.get(i).equal(pb.get(i)), "parameter " + i);
      }
    } finally {
      all.close();
      expectedAdam.close();
      rule.close();
      rule.optimizers().forEach(Optim::close);
      a.close();
      b.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sum", "mean"})
  void theHandWrittenTestPassGivesTheSameLossAndPosteriorsAsTheModelsForward(String reduction) {
    MlpVae model = model(reduction);
    var optimizer = Optimizers.create(model.job().optimizer(), model.parameters(), 1e-2);
    // room for 48 training images; the test batches are larger and smaller than that, and the
    // largest (300
    // images) take the BCE pass split between two threads
    MlpVaeStep rule = new MlpVaeStep(model, optimizer, Kernels.training(), 48, 2);
    var train = TrainerTest.DATA.train();
    Tensor all = TensorData.unitImages(train, 512);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int i = 0; i < 4; i++) {
        try (PointerScope s = new PointerScope()) {
          // a step between passes, so the weights are not the initial ones
          rule.step(all.narrow(0, 48 * i, 48), 1.0, 0);
          int size = new int[] {100, 60, 300, MlpVaeStep.BCE_SPLIT_ROWS}[i];
          Tensor x = all.narrow(0, 100 + 10 * i, size);
          torch.manual_seed(200 + i);
          Losses expected = model.losses(x, x, 1.5, 0);
          torch.manual_seed(200 + i);
          StepRule.TestBatch actual = rule.test(x, 1.5, 0).orElseThrow();
          double loss = expected.total().item_double();
          assertEquals(loss, actual.loss(), 1e-4 * Math.abs(loss), "test loss of batch " + i);
          assertArrayEquals(
              TensorData.floats(expected.codes()), actual.means(), 1e-4f, "means of batch " + i);
          assertArrayEquals(
              TensorData.floats(expected.logVar()),
              actual.logVars(),
              1e-4f,
              "log-variances of batch " + i);
        }
      }
      assertTrue(
          rule.test(all.narrow(0, 0, 10), 1.0, 0.5).isEmpty(),
          "free bits take the model's own path");
    } finally {
      all.close();
      rule.close();
      optimizer.close();
      model.close();
    }
  }
}
