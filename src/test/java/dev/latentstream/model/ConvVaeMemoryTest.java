package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.nativelib.NativeHeap;
import java.util.List;
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

  /**
   * Without autograd a pass over more images than {@link ConvVae#imagesPerPiece} runs a piece at a
   * time; its codes and logits are those of the whole batch at once (as autograd's pass runs it).
   */
  @Test
  void aPassInPiecesGivesTheWholeBatchsValues() {
    JobConfig job =
        JobConfigs.parse(
            "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},"
                + "\"latent\":2}",
            "test",
            "test");
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      ConvVae model = new ConvVae(job, 28, 28);
      model.eval();
      int images = (int) (2.5 * model.imagesPerPiece());
      assertTrue(images > model.imagesPerPiece() * 2, "three pieces, the last a short one");
      Tensor x = torch.rand(images, 784);
      Tensor z = torch.randn(images, 2);
      Autoencoder.Encoded whole = model.encode(x);
      Tensor wholeLogits = model.decodeLogits(z);
      try (NoGradGuard noGrad = new NoGradGuard()) {
        Autoencoder.Encoded pieces = model.encode(x);
        Tensor piecesLogits = model.decodeLogits(z);
        assertEquals(
            List.of((long) images, 2L), List.of(pieces.mean().size(0), pieces.mean().size(1)));
        assertClose(whole.mean(), pieces.mean(), "means");
        assertClose(whole.logVar(), pieces.logVar(), "log-variances");
        assertEquals(
            List.of((long) images, 784L), List.of(piecesLogits.size(0), piecesLogits.size(1)));
        assertClose(wholeLogits, piecesLogits, "logits");
      }
    }
  }

  private static void assertClose(Tensor expected, Tensor actual, String what) {
    double scale = expected.detach().abs().max().item_double();
    double diff = expected.detach().sub(actual).abs().max().item_double();
    assertTrue(
        diff <= 1e-5 * Math.max(1, scale),
        what + " in pieces differ from the whole batch's by " + diff + " (largest " + scale + ")");
  }
}
