package dev.latentstream.nativelib;

import java.lang.foreign.MemorySegment;

/**
 * Frame kernels: float batches to 8-bit grids, labelled points onto RGBA, images to PNG. Inputs are
 * C-contiguous float32 (or int32 labels); outputs go into caller-owned segments of explicit size.
 * The semantics are those of {@code native/include/lsframes.h}; every implementation produces the
 * same bytes.
 *
 * @throws NativeFrameException (from every method) when the arguments or buffer sizes are wrong
 */
public interface FrameKernels {

  /** "native lsframes 1.0.0" or "java". */
  String implementation();

  /**
   * {width, height} of a grid of n tiles of h x w, {@code columns} per row, {@code gap} pixels
   * apart.
   */
  int[] gridSize(int n, int h, int w, int columns, int gap);

  void tileGrey(
      MemorySegment src,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst);

  void tilePairs(
      MemorySegment originals,
      MemorySegment reconstructions,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst);

  void scatterRgba(
      MemorySegment xy,
      MemorySegment labels,
      int n,
      float xMin,
      float xMax,
      float yMin,
      float yMax,
      int size,
      MemorySegment rgba,
      int width,
      int height);

  /** A PNG of a grey (1) or RGBA (4 channels) image. */
  byte[] encodePng(MemorySegment pixels, int width, int height, int channels, int level);

  /**
   * A palette PNG: {@code width × height} indices into {@code paletteRgb}, which holds {@code
   * entries} (1-256) RGB triples.
   */
  byte[] encodeIndexedPng(
      MemorySegment indices, int width, int height, byte[] paletteRgb, int entries, int level);
}
