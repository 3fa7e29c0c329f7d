package dev.latentstream.model;

import dev.latentstream.data.Split;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.nativelib.TrainingKernels;
import java.lang.foreign.MemorySegment;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Training batches of one split, gathered at each step straight from the split's bytes (one native
 * pass, {@code lsf_gather_unit}) into one reused float tensor, as floats in [0, 1].
 *
 * <p>Why not the whole split as a float tensor, indexed per step: that tensor is four times the
 * bytes the split already holds on the Java heap (188 MB for Fashion-MNIST's training set), for the
 * whole run, and building it held three copies at once. Gathering 128 images of 784 bytes costs
 * about as much as {@code index_select} on the float tensor did, and gives the same values: {@code
 * b / 255f} is what libtorch's {@code to(Float).div(255)} computes, bit for bit (ImageBatchesTest).
 *
 * <p>Owned by the thread that trains; the batch tensor is overwritten by each {@link #gather}, so a
 * batch is valid until the next one.
 */
public final class ImageBatches implements AutoCloseable {

  static {
    Libtorch.load();
  }

  private static final TrainingKernels KERNELS = Kernels.training();

  private final MemorySegment pixelMemory;
  private final int imageSize;
  private final int count;
  private final Tensor host;
  private final MemorySegment memory;

  /** The batch on the device; {@link #host} itself on the CPU. */
  private final Tensor onDevice;

  /** Room for batches of up to {@code maxBatch} images of {@code split}, on {@code device}. */
  public ImageBatches(Split split, int maxBatch, Device device) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.pixelMemory = MemorySegment.ofArray(split.pixels());
    this.imageSize = split.imageSize();
    this.count = split.count();
    int rows = Math.min(maxBatch, Math.max(1, count));
    host = torch.empty(rows, imageSize);
    memory = TensorData.segment(host);
    onDevice =
        device.is_cpu()
            ? host
            : host.to(device, org.bytedeco.pytorch.global.torch.ScalarType.Float);
  }

  /** The most images one batch holds. */
  public int capacity() {
    return (int) host.size(0);
  }

  /**
   * The images {@code order[from] .. order[from + size - 1]} as a {@code [size, pixels]} float
   * tensor on the device. The tensor is a view of the reused batch: valid until the next call.
   */
  public Tensor gather(long[] order, int from, int size) {
    if (size < 1 || size > capacity()) {
      throw new IllegalArgumentException("batch size " + size + " is not from 1 to " + capacity());
    }
    if (from < 0 || from + size > order.length) {
      throw new IndexOutOfBoundsException(
          "images " + from + ".." + (from + size) + " of an order of " + order.length);
    }
    for (int i = 0; i < size; i++) {
      long image = order[from + i];
      if (image < 0 || image >= count) {
        throw new IndexOutOfBoundsException("image " + image + " of " + count);
      }
    }
    // One native pass (critical downcall: it reads the Java arrays in place): the Java loop through
    // the
    // segment cost a few per cent of every step (figures: docs/benchmarks.md).
    KERNELS.gatherUnit(
        pixelMemory,
        count,
        imageSize,
        MemorySegment.ofArray(order).asSlice(8L * from, 8L * size),
        size,
        memory);
    Tensor x = size == capacity() ? host : host.narrow(0, 0, size);
    if (onDevice == host) {
      return x;
    }
    Tensor target = size == capacity() ? onDevice : onDevice.narrow(0, 0, size);
    target.copy_(x);
    return target;
  }

  @Override
  public void close() {
    if (onDevice != host) {
      onDevice.close();
    }
    host.close();
  }
}
