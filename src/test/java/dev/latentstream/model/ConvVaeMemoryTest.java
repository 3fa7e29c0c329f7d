package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.nativelib.NativeHeap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The conv VAE's pass holds what Python's would: each feature map lives until the layer after it
 * has run, not until the caller's {@code PointerScope} closes. When every map stayed, a test pass
 * of 500 images held about 400 MB at once and the process peaked at 3.2× the PyTorch peer's memory
 * (docs/benchmarks.md).
 */
class ConvVaeMemoryTest {

  static {
    Libtorch.load();
  }

  @Test
  void aPassWithoutGradientsHoldsNoFeatureMapOnceItReturns() {
    Assumptions.assumeTrue(NativeHeap.bytesInUse().isPresent(), "glibc's mallinfo2");
    JobConfig job =
        JobConfigs.parse(
            "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},"
                + "\"latent\":2}",
            "test",
            "test");
    int images = 200;
    // The smallest of the model's twelve feature maps at this batch: 64 maps of 14×14.
    long smallestMap = (long) images * 64 * 14 * 14 * Float.BYTES;
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      ConvVae model = new ConvVae(job, 28, 28);
      model.eval();
      Tensor x = torch.rand(images, 784);
      try (NoGradGuard noGrad = new NoGradGuard();
          PointerScope pass = new PointerScope()) {
        long before = NativeHeap.bytesInUse().getAsLong();
        Autoencoder.Encoded q = model.encode(x);
        Tensor logits = model.decodeLogits(q.mean());
        long held = NativeHeap.bytesInUse().getAsLong() - before;
        assertTrue(
            held < smallestMap,
            "after the pass the C heap holds "
                + held
                + " bytes more, at least a feature map ("
                + smallestMap
                + "); the outputs are "
                + logits.nbytes()
                + " bytes");
      }
    }
  }
}
