package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.nativelib.NativeHeap;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /** The conv preset's layers, 2-D latent. */
  private static final JobConfig PRESET_LAYOUT =
      JobConfigs.parse(
          "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},"
              + "\"latent\":2}",
          "test",
          "test");

  @Test
  void aPassWithoutGradientsHoldsNoFeatureMapOnceItReturns() {
    Assumptions.assumeTrue(NativeHeap.bytesInUse().isPresent(), "glibc's mallinfo2");
    JobConfig job = PRESET_LAYOUT;
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
    JobConfig job = PRESET_LAYOUT;
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

  /**
   * A pass in pieces reuses the memory its earlier pieces freed: the pages of a piece's feature
   * maps stay with the arena (glibc's trim threshold, {@link
   * dev.latentstream.nativelib.NativeHeap#mapAllocationsFrom}), so a pass after the first faults
   * few pages in. With the trim threshold at glibc's 128 KiB every piece gave its pages back and
   * faulted them in again, and the conv VAE's test pass took 8 s instead of 1.
   */
  @Test
  void aPassInPiecesReusesThePagesItFreed() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("/proc/thread-self/stat")), "Linux's /proc");
    JobConfig job = PRESET_LAYOUT;
    long[] faults = new long[3];
    // A thread of its own, so an arena of its own that earlier tests have not paged in.
    Thread passes =
        new Thread(
            () -> {
              try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(7);
                ConvVae model = new ConvVae(job, 28, 28);
                model.eval();
                Tensor x = torch.rand(6 * model.imagesPerPiece(), 784);
                try (NoGradGuard noGrad = new NoGradGuard()) {
                  for (int pass = 0; pass < faults.length; pass++) {
                    long before = minorFaults();
                    try (PointerScope passScope = new PointerScope()) {
                      model.decodeLogits(model.encode(x).mean());
                    }
                    faults[pass] = minorFaults() - before;
                  }
                }
              }
            });
    passes.start();
    passes.join();
    assertTrue(
        faults[2] < faults[0] / 4,
        "page faults of three passes of six pieces: "
            + java.util.Arrays.toString(faults)
            + "; the third should reuse the first's pages");
  }

  /** Minor page faults of the calling thread ({@code /proc/thread-self/stat}, field 10). */
  private static long minorFaults() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
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
