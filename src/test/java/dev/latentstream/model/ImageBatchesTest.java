package dev.latentstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.data.Split;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class ImageBatchesTest {

  /** Every byte value in some image, so the conversion is checked for all 256. */
  static Split split() {
    int count = 7;
    int size = 6 * 7;
    byte[] pixels = new byte[count * size];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 37);
    }
    return new Split(pixels, new byte[count], count, 6, 7);
  }

  /**
   * What the trainer computed before: the bytes as a tensor, {@code to(Float).div(255)}, rows
   * picked by index.
   */
  static float[] libtorchRows(Split s, long[] rows) {
    Tensor bytes = Tensor.create(s.pixels(), false, s.count(), s.imageSize());
    Tensor all = bytes.to(ScalarType.Float).div(new Scalar(255.0));
    return TensorData.floats(all.index_select(0, Tensor.create(rows, rows.length)));
  }

  @Test
  void aGatheredBatchHoldsTheSameFloatsAsLibtorchsConversionBitForBit() {
    Split s = split();
    long[] order = {6, 2, 0, 5, 3, 1, 4};
    try (PointerScope scope = new PointerScope();
        ImageBatches batches = new ImageBatches(s, 3, new Device("cpu"))) {
      for (int from = 0; from < order.length; from += 3) {
        int size = Math.min(3, order.length - from);
        float[] got = TensorData.floats(batches.gather(order, from, size));
        long[] rows = java.util.Arrays.copyOfRange(order, from, from + size);
        assertArrayEquals(libtorchRows(s, rows), got, "rows " + java.util.Arrays.toString(rows));
      }
    }
  }

  @Test
  void aWholeSplitAsUnitImagesMatchesLibtorchsConversion() {
    Split s = split();
    try (PointerScope scope = new PointerScope()) {
      Tensor images = TensorData.unitImages(s, 2, 4, new Device("cpu"));
      assertArrayEquals(new long[] {4, s.imageSize()}, images.sizes().vec().get());
      assertArrayEquals(libtorchRows(s, new long[] {2, 3, 4, 5}), TensorData.floats(images));
    }
  }

  @Test
  void aPermutationComesBackAsJavaLongs() {
    try (PointerScope scope = new PointerScope()) {
      long[] order = TensorData.longs(torch.randperm(50));
      assertTrue(
          java.util.Arrays.equals(
              java.util.stream.LongStream.range(0, 50).toArray(),
              java.util.Arrays.stream(order).sorted().toArray()),
          "a permutation of 0..49");
    }
  }

  @Test
  void anOrderNamingAnImageOutsideTheSplitIsRejected() {
    Split s = split();
    try (PointerScope scope = new PointerScope();
        ImageBatches batches = new ImageBatches(s, 3, new Device("cpu"))) {
      assertThrows(IndexOutOfBoundsException.class, () -> batches.gather(new long[] {0, 7}, 0, 2));
      assertThrows(
          IllegalArgumentException.class, () -> batches.gather(new long[] {0, 1, 2, 3}, 0, 4));
    }
  }
}
