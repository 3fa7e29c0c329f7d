package dev.latentstream.nativelib;

import java.lang.foreign.MemorySegment;

/**
 * The buffer checks both kernel implementations make in Java before any kernel runs: the sizes of
 * the inputs that {@code lsframes.h} is given no length for, so a short segment is a {@link
 * NativeFrameException} (status -2, "buffer too small") from the native kernels and the Java ones
 * alike, never a read past its end. The checks of the arguments that C validates itself live in
 * {@code lsframes.c} and, for the Java fallback, beside each Java kernel.
 */
final class KernelArguments {

  static final int BUFFER_TOO_SMALL = -2;

  private KernelArguments() {}

  /** Each segment holds at least {@code n} float32 values. */
  static void floats(String call, long n, MemorySegment... segments) {
    for (MemorySegment m : segments) {
      if (m.byteSize() < 4 * n) {
        throw tooSmall(call, n, m.byteSize());
      }
    }
  }

  /**
   * A {@code rows × cols} gradient, the activations that mask it (or null) and a bias gradient of
   * {@code cols}.
   */
  static void reluGradColsum(
      String call,
      MemorySegment grad,
      MemorySegment act,
      long rows,
      long cols,
      MemorySegment biasGrad) {
    floats(call, rows * cols, grad);
    if (act != null) {
      floats(call, rows * cols, act);
    }
    floats(call, cols, biasGrad);
  }

  /** {@code n} (x, y) float32 pairs and {@code n} int32 labels. */
  static void points(String call, MemorySegment xy, MemorySegment labels, int n) {
    if (xy.byteSize() < 8L * n || labels.byteSize() < 4L * n) {
      throw tooSmall(call, n, xy.byteSize(), labels.byteSize());
    }
  }

  /** {@code entries} RGB triples. */
  static void palette(String call, byte[] paletteRgb, int entries) {
    if (paletteRgb.length < 3L * Math.max(0, entries)) {
      throw tooSmall(call, entries, paletteRgb.length);
    }
  }

  /**
   * {@code images} of {@code imageSize} bytes, {@code count} int64 indices and room for {@code
   * count} images as float32.
   */
  static void gather(
      String call,
      MemorySegment pixels,
      long images,
      long imageSize,
      MemorySegment order,
      long count,
      MemorySegment out) {
    if (pixels.byteSize() < images * imageSize
        || order.byteSize() < 8 * count
        || out.byteSize() < 4 * count * imageSize) {
      throw tooSmall(call, images, imageSize, count);
    }
  }

  private static NativeFrameException tooSmall(String call, Object... args) {
    return new NativeFrameException(call, BUFFER_TOO_SMALL, "buffer too small", args);
  }
}
