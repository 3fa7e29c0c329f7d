package dev.latentstream.render;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Turns float tensor memory into PNG frames. Input segments hold C-contiguous float32 values and
 * may point straight into libtorch tensor memory: an implementation reads them during the call and
 * keeps no reference afterwards, so the caller's tensor only has to stay alive for the duration of
 * the call.
 */
public interface FrameRenderer {

  /**
   * A grey grid of {@code n} images of {@code height x width} floats in [0, 1] (values outside are
   * clamped, NaN renders as 0), {@code columns} per row, with a 2-pixel gap.
   */
  Png grid(MemorySegment images, int n, int height, int width, int columns);

  /**
   * Originals beside reconstructions: each of the {@code n} cells holds the original on the left
   * and its reconstruction on the right; {@code columns} pairs per row.
   */
  Png pairs(
      MemorySegment originals,
      MemorySegment reconstructions,
      int n,
      int height,
      int width,
      int columns);

  /**
   * A square RGBA scatter of {@code n} 2-D points ({@code points} holds x0, y0, x1, y1, ... as
   * float32), each coloured by its class ({@code labels} holds n int32 values, indexes into {@code
   * classNames}), over the given axis range, with a legend naming the classes.
   */
  Png scatter(
      MemorySegment points,
      MemorySegment labels,
      int n,
      float xMin,
      float xMax,
      float yMin,
      float yMax,
      int size,
      List<String> classNames);

  /**
   * Which implementation this is, for logs, the CLI and {@code /api/info}, e.g. "native 1.0.0" or
   * "java".
   */
  String implementation();
}
