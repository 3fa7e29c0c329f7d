package dev.latentstream.model;

import java.lang.foreign.MemorySegment;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Moves data between Java arrays and CPU float tensors. {@link #segment} is the zero-copy path: a
 * view of a contiguous CPU tensor's memory that is valid only while the caller keeps that tensor
 * alive.
 */
public final class TensorData {

  static {
    Libtorch.load();
  }

  private TensorData() {}

  /** A new float tensor of the given shape holding a copy of {@code values}. */
  public static Tensor tensor(float[] values, long... shape) {
    return Tensor.create(values, shape);
  }

  /** A copy of the tensor's values, moved to the CPU and made contiguous first if needed. */
  public static float[] floats(Tensor t) {
    Tensor c = cpuContiguousFloat(t);
    float[] out = new float[(int) c.numel()];
    c.data_ptr_float().get(out);
    return out;
  }

  /** A copy of the tensor's values as doubles, moved to the CPU and converted first if needed. */
  public static double[] doubles(Tensor t) {
    Tensor c = t.device().is_cpu() ? t : t.cpu();
    c = c.to(ScalarType.Double).contiguous();
    double[] out = new double[(int) c.numel()];
    c.data_ptr_double().get(out);
    return out;
  }

  /** {@code t} as contiguous float32 on the CPU; the same tensor when it already is. */
  public static Tensor cpuContiguousFloat(Tensor t) {
    Tensor c = t;
    if (!c.device().is_cpu()) {
      c = c.cpu();
    }
    if (!isFloat(c)) {
      c = c.to(ScalarType.Float);
    }
    return c.contiguous();
  }

  /**
   * The memory of a contiguous CPU float tensor, without a copy. The tensor owns the memory: the
   * segment must not be used after the tensor is freed (that would be a use-after-free, not an
   * exception).
   */
  public static MemorySegment segment(Tensor contiguousCpuFloat) {
    if (!contiguousCpuFloat.is_contiguous()
        || !contiguousCpuFloat.device().is_cpu()
        || !isFloat(contiguousCpuFloat)) {
      throw new IllegalArgumentException("segment() needs a contiguous CPU float tensor");
    }
    return MemorySegment.ofAddress(contiguousCpuFloat.data_ptr().address())
        .reinterpret(contiguousCpuFloat.nbytes());
  }

  /**
   * Whether the tensor holds float32. Compared by value: the enum instances JavaCPP returns from
   * native calls are not the Java constants, so {@code ==} fails even for equal types.
   */
  public static boolean isFloat(Tensor t) {
    return t.scalar_type().value == ScalarType.Float.value;
  }

  /** {@code UNIT[b]}: the byte {@code b} (unsigned) as a float in [0, 1], {@code b / 255f}. */
  private static final float[] UNIT = new float[256];

  static {
    for (int b = 0; b < 256; b++) {
      UNIT[b] = b / 255f;
    }
  }

  /** A copy of a CPU long tensor's values (made contiguous first if needed), e.g. a permutation. */
  public static long[] longs(Tensor t) {
    if (!t.device().is_cpu() || t.scalar_type().value != ScalarType.Long.value) {
      throw new IllegalArgumentException("longs() needs a CPU long tensor");
    }
    Tensor c = t.contiguous();
    long[] out = new long[(int) c.numel()];
    MemorySegment.ofAddress(c.data_ptr().address())
        .reinterpret(c.nbytes())
        .asByteBuffer()
        .order(java.nio.ByteOrder.nativeOrder())
        .asLongBuffer()
        .get(out);
    return out;
  }

  /**
   * Images {@code from .. from + count} of a split as a {@code [count, pixels]} float tensor in [0,
   * 1] on the device, converted from the bytes straight into the tensor's memory: no byte tensor
   * and no intermediate float tensor, which for a whole split cost two extra copies at load time.
   */
  public static Tensor unitImages(
      dev.latentstream.data.Split split, int from, int count, org.bytedeco.pytorch.Device device) {
    if (from < 0 || count < 0 || from + count > split.count()) {
      throw new IndexOutOfBoundsException(
          "images " + from + ".." + (from + count) + " of " + split.count());
    }
    int size = split.imageSize();
    Tensor host = org.bytedeco.pytorch.global.torch.empty(count, size);
    if (count > 0) {
      unitFloats(split.pixels(), from * size, segment(host), 0, (long) count * size);
    }
    if (device.is_cpu()) {
      return host;
    }
    Tensor moved = host.to(device, org.bytedeco.pytorch.global.torch.ScalarType.Float);
    host.close();
    return moved;
  }

  /**
   * The first {@code count} images of a split as a {@code [count, pixels]} CPU tensor in [0, 1].
   */
  public static Tensor unitImages(dev.latentstream.data.Split split, int count) {
    try (org.bytedeco.pytorch.Device cpu = new org.bytedeco.pytorch.Device("cpu")) {
      return unitImages(split, 0, count, cpu);
    }
  }

  /**
   * Writes {@code count} unsigned bytes from {@code pixels[from]} as floats in [0, 1] at float
   * index {@code at} of {@code out}.
   */
  static void unitFloats(byte[] pixels, int from, MemorySegment out, long at, long count) {
    for (long i = 0; i < count; i++) {
      out.setAtIndex(
          java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED,
          at + i,
          UNIT[pixels[(int) (from + i)] & 0xff]);
    }
  }

  /** Unsigned image bytes as floats in [0, 1]. */
  public static float[] unitFloats(byte[] pixels, int from, int count) {
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = UNIT[pixels[from + i] & 0xff];
    }
    return out;
  }
}
