package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The conv VAE's gradients, as trained (float, through libtorch's oneDNN convolutions), against the
 * same model in double precision, which libtorch computes without oneDNN.
 *
 * <p>History: in November 2026 the oneDNN under libtorch 2.10 got the gradient with respect to a
 * convolution's input wrong when the layer's output channels were not a multiple of 16 (garbage, at
 * times NaN), and the conv VAE padded such layers with zero filters up to 16 (commit eecae3b). With
 * the libtorch 2.10 the build now ships it does not reproduce (unpadded, every gradient within
 * 5.6e-6 relative), so the padding is gone; {@link #unpaddedLayersGetTheirInputGradientRight}
 * watches the exact layers that went wrong, and says the padding must come back if they go wrong
 * again.
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

  /**
   * A 3×3, padding-1 convolution from {@code in} to {@code out} channels, run unpadded in float on
   * the CPU (oneDNN) at a real batch, against the same layer in double: the input, weight and bias
   * gradients of a loss whose output gradient is random. Repeated, on one and two libtorch threads,
   * since the old failure came and went between calls.
   */
  @ParameterizedTest(name = "{0} to {1} channels, batch {2}, {3} thread(s)")
  @CsvSource({
    // the preset's output layer, at its batch (16) and at a batch of 128
    "32, 1, 16, 1",
    "32, 1, 128, 2",
    // the small model's 8-channel layer and one more width off the block
    "4, 8, 16, 1",
    "8, 8, 64, 2",
    "64, 12, 32, 2"
  })
  void unpaddedLayersGetTheirInputGradientRight(int in, int out, int batch, int threads) {
    int saved = torch.get_num_threads();
    torch.set_num_threads(threads);
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(7);
      Conv2dOptions o = new Conv2dOptions(in, out, new LongPointer(3L, 3L));
      o.padding().put(new LongPointer(1L, 1L));
      Conv2dImpl layer = new Conv2dImpl(o);
      Conv2dImpl reference = new Conv2dImpl(o);
      reference.weight().detach().copy_(layer.weight());
      reference.bias().detach().copy_(layer.bias());
      reference.to(torch.ScalarType.Double, false);
      for (int repeat = 0; repeat < 5; repeat++) {
        Tensor x = torch.randn(batch, in, 28, 28);
        Tensor upstream = torch.randn(batch, out, 28, 28);
        List<Tensor> got = convolutionGradients(layer, x, upstream);
        List<Tensor> want =
            convolutionGradients(
                reference, x.to(torch.ScalarType.Double), upstream.to(torch.ScalarType.Double));
        String[] names = {"input", "weight", "bias"};
        for (int i = 0; i < names.length; i++) {
          double norm = want.get(i).norm().item_double();
          double error = got.get(i).sub(want.get(i)).norm().item_double();
          assertTrue(
              error <= 1e-4 * norm,
              "libtorch "
                  + Libtorch.load()
                  + "'s CPU convolution "
                  + in
                  + "->"
                  + out
                  + " channels got the "
                  + names[i]
                  + " gradient wrong (relative error "
                  + error / norm
                  + ", call "
                  + (repeat + 1)
                  + "): the oneDNN bug of commit eecae3b is back, so ConvVae must pad such layers"
                  + " to a multiple of 16 output channels again while autograd records on the CPU");
        }
      }
    } finally {
      torch.set_num_threads(saved);
    }
  }

  /** Input, weight and bias gradients of Σ(conv(x) · upstream), in double. */
  private static List<Tensor> convolutionGradients(Conv2dImpl layer, Tensor x, Tensor upstream) {
    Tensor input = x.detach().clone().requires_grad_(true);
    for (Tensor p : layer.parameters().get()) {
      Tensor g = p.mutable_grad();
      if (g.defined()) {
        g.reset();
      }
    }
    layer.forward(input).mul(upstream).sum().backward();
    return List.of(
        input.grad().to(torch.ScalarType.Double),
        layer.weight().grad().to(torch.ScalarType.Double),
        layer.bias().grad().to(torch.ScalarType.Double));
  }
}
