package dev.latentstream.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpVae;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.nativelib.TrainingKernels;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The fused Adam step follows libtorch's Adam: same model, same batches, same weights afterwards.
 */
class FusedAdamTest {

  static MlpVae model() {
    torch.manual_seed(3);
    return new MlpVae(
        JobConfigs.parse("{\"model\":\"vae\",\"hidden\":[32],\"latent\":3}", "t", "t"), 8, 8);
  }

  static void train(MlpVae m, Optim o) {
    for (int i = 0; i < 30; i++) {
      try (PointerScope s = new PointerScope()) {
        torch.manual_seed(100 + i);
        Tensor x = torch.rand(16, 64);
        Losses l = m.losses(x, x, 1.0);
        o.zeroGrad();
        l.total().backward();
        o.step();
      }
    }
  }

  @Test
  void matchesLibtorchAdamOverThirtySteps() {
    assertEquals(
        TrainingKernels.Kind.NATIVE,
        Kernels.training().kind(),
        Kernels.training().implementation());
    MlpVae a = model();
    MlpVae b = model();
    Optim reference = new Optimizers.Libtorch(new Adam(a.parameters(), new AdamOptions(1e-2)));
    Optim fused = new FusedAdam(b.parameters(), 1e-2, Kernels.training());
    train(a, reference);
    train(b, fused);
    TensorVector pa = a.parameters();
    TensorVector pb = b.parameters();
    double worst = 0;
    for (long i = 0; i < pa.size(); i++) {
      worst = Math.max(worst, pa.get(i).sub(pb.get(i)).abs().max().item_double());
    }
    assertTrue(worst < 1e-4, "largest weight difference " + worst);
    assertEquals(1e-2, fused.learningRate());
    assertTrue(
        pa.get(0).sub(model().parameters().get(0)).abs().max().item_double() > 1e-3,
        "training moved the weights");
  }
}
