package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.ConvVae;
import dev.latentstream.model.Libtorch;
import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.NativeHeap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A test pass gives back the memory it freed. glibc keeps freed blocks for the next allocations, so
 * without {@link NativeHeap#trim} the conv VAE's pass over 500-image batches left the process
 * holding a pass's worth of feature maps that the training steps of batch 16 hardly reuse, under
 * every later peak (docs/benchmarks.md).
 */
class TestScanMemoryTest {

  static {
    Libtorch.load();
  }

  @Test
  void aConvVaeTestPassLeavesNoFeatureMapsResident() throws IOException {
    Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "Linux's /proc");
    JobConfig job =
        JobConfigs.parse(
            "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[32,64,64,64],\"dense\":32},"
                + "\"latent\":2,\"reduction\":\"mean\",\"beta\":0.001}",
            "test",
            "test");
    int images = 2 * TestScan.EVAL_BATCH;
    // The widest feature map of a test batch: 32 maps of 28×28, 50 MB.
    long widestMap = (long) TestScan.EVAL_BATCH * 32 * 28 * 28 * Float.BYTES;
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(3);
      ConvVae model = new ConvVae(job, 28, 28);
      Tensor x = torch.rand(images, 784);
      long before = residentBytes();
      TestScan.run(
          model,
          x,
          images,
          batch -> {
            var losses = model.losses(batch, batch, 0.001);
            StepRule.checked("test loss", losses.total());
            return new TestScan.Coded(
                TensorData.floats(losses.codes()), TensorData.floats(losses.logVar()));
          });
      long grown = residentBytes() - before;
      assertTrue(
          grown < widestMap,
          "the process holds "
              + grown / 1048576
              + " MiB more after the pass, more than its widest feature map ("
              + widestMap / 1048576
              + " MiB)");
    }
  }

  private static long residentBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
