package dev.latentstream.model;

import java.lang.foreign.MemorySegment;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Moves data between Java arrays and CPU float tensors. {@link #segment} is the zero-copy path: a view of
 * a contiguous CPU tensor's memory that is valid only while the caller keeps that tensor alive.
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
   * The memory of a contiguous CPU float tensor, without a copy. The tensor owns the memory: the segment
   * must not be used after the tensor is freed (that would be a use-after-free, not an exception).
   */
  public static MemorySegment segment(Tensor contiguousCpuFloat) {
    if (!contiguousCpuFloat.is_contiguous() || !contiguousCpuFloat.device().is_cpu()
        || !isFloat(contiguousCpuFloat)) {
      throw new IllegalArgumentException("segment() needs a contiguous CPU float tensor");
    }
    return MemorySegment.ofAddress(contiguousCpuFloat.data_ptr().address()).reinterpret(contiguousCpuFloat.nbytes());
  }

  /**
   * Whether the tensor holds float32. Compared by value: the enum instances JavaCPP returns from native
   * calls are not the Java constants, so {@code ==} fails even for equal types.
   */
  public static boolean isFloat(Tensor t) {
    return t.scalar_type().value == ScalarType.Float.value;
  }

  /** Unsigned image bytes as floats in [0, 1]. */
  public static float[] unitFloats(byte[] pixels, int from, int count) {
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = (pixels[from + i] & 0xff) / 255f;
    }
    return out;
  }
}
