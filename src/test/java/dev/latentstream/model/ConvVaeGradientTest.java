package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The conv VAE's gradients, as trained (float, through libtorch's oneDNN convolutions), against the
 * same model in double precision, which libtorch computes without oneDNN. oneDNN 3.7.1 gets the
 * gradient with respect to a convolution's input wrong when its output channels are not a multiple
 * of 16; before {@link ConvVae#convolve} padded those layers, every gradient upstream of the
 * 1-channel output layer here was off by about its own size, and now and then NaN, so runs diverged
 * at random steps.
 */
class ConvVaeGradientTest {

  static {
    Libtorch.load();
  }

  /** The gradient of every parameter, in order, for a deterministic loss through every layer. */
  static List<Tensor> gradients(ConvVae model, Tensor x) {
    for (Tensor p : model.parameters().get()) {
      Tensor g = p.mutable_grad();
      if (g.defined()) {
        g.reset();
      }
    }
    Autoencoder.Encoded q = model.encode(x);
    Tensor logits = model.decodeLogits(q.mean());
    torch
        .binary_cross_entropy_with_logits(
            logits, x, new TensorOptional(), new TensorOptional(), torch.Reduction.Sum.value)
        .add(q.logVar().square().sum())
        .backward();
    List<Tensor> out = new ArrayList<>();
    for (Tensor p : model.parameters().get()) {
      out.add(p.grad().to(torch.ScalarType.Double).detach().clone());
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // the preset's layers (conv-vae-2d-mnist): only the output layer has a channel count off
        // the block
        "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},\"latent\":2}",
        // small layers, one a stride-1 convolution to 8 channels
        "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[4,8,8],\"dense\":16},\"latent\":3}"
      })
  void gradientsMatchADoublePrecisionCopyOfTheModel(String spec) {
    JobConfig job = JobConfigs.parse(spec, "test", "test");
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      ConvVae asTrained = new ConvVae(job, 28, 28);
      torch.manual_seed(5);
      ConvVae reference = new ConvVae(job, 28, 28);
      reference.to(torch.ScalarType.Double, false);
      Tensor x = torch.rand(16, 784);
      List<Tensor> got = gradients(asTrained, x);
      List<Tensor> want = gradients(reference, x.to(torch.ScalarType.Double));
      var names = asTrained.named_parameters();
      for (int i = 0; i < got.size(); i++) {
        double scale = want.get(i).abs().max().item_double();
        double error = got.get(i).sub(want.get(i)).abs().max().item_double();
        String name = names.get(i).key().getString();
        assertTrue(
            error <= 1e-3 * scale,
            name + ": gradient off by " + error + " where it is at most " + scale);
      }
    }
  }
}
