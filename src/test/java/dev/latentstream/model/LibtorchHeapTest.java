package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * With libtorch loaded, a freed tensor of {@link Libtorch#MAPPED_TENSOR_BYTES} or more leaves
 * nothing resident, however many came before it. glibc's default would serve the second such tensor
 * from an arena (its threshold rises to the largest block freed) and keep its pages after the free,
 * which is how the conv VAE's passes left the process holding their feature maps.
 */
class LibtorchHeapTest {

  static {
    Libtorch.load();
  }

  @Test
  void aFreedLargeTensorIsGivenBackToTheSystemEveryTime() throws IOException {
    Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "Linux's /proc");
    long floats = (Libtorch.MAPPED_TENSOR_BYTES + (4L << 20)) / Float.BYTES;
    long bytes = floats * Float.BYTES;
    // The first also pages in what its kernels touch; glibc's default gives that one back too.
    torch.ones(floats).close();
    for (int i = 1; i <= 3; i++) {
      long before = residentBytes();
      Tensor t = torch.ones(floats);
      long held = residentBytes() - before;
      t.close();
      long kept = residentBytes() - before;
      assertTrue(held > bytes / 2, "tensor " + i + " was resident: " + held + " bytes");
      assertTrue(
          kept < bytes / 2,
          "after tensor " + i + " of " + bytes + " bytes was freed the process kept " + kept);
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
