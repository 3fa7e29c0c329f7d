package dev.latentstream.render;

import dev.latentstream.nativelib.FrameKernels;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A {@link FrameRenderer} on top of a set of {@link FrameKernels}: tiles and points come from the
 * kernels, straight from the caller's memory; the scatter's axes and legend (text) are drawn with
 * Java2D once per size and class list, the same for every kernel implementation, so native and Java
 * frames match pixel for pixel. One confined arena per call owns the intermediate pixel buffers.
 */
public final class KernelFrameRenderer implements FrameRenderer {

  /** Gap between tiles, in pixels (background 0). */
  public static final int GAP = 2;

  static final int LEGEND_WIDTH = 150;

  /**
   * zlib level 6 with per-row PNG filters: a frame is encoded once and sent to every viewer, so a
   * few milliseconds more per frame (every {@code frameEverySteps} steps) buy a quarter fewer bytes
   * for all of them (manifold 152 → 105 KB, reconstructions 33 → 28 KB, samples 42 → 32 KB,
   * measured on Fashion-MNIST).
   */
  static final int PNG_LEVEL = 6;

  /**
   * Palette images are small: zlib's default level costs little more than run-length matching here.
   */
  static final int INDEXED_PNG_LEVEL = 6;

  static final int[] PALETTE = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22,
    0x17becf
  };

  private final FrameKernels kernels;

  public KernelFrameRenderer(FrameKernels kernels) {
    this.kernels = kernels;
  }

  @Override
  public String implementation() {
    return kernels.implementation();
  }

  @Override
  public Png grid(MemorySegment images, int n, int height, int width, int columns) {
    int[] size = kernels.gridSize(n, height, width, columns, GAP);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment grey = arena.allocate((long) size[0] * size[1]);
      kernels.tileGrey(images, n, height, width, columns, GAP, 0f, 1f, grey);
      return new Png(size[0], size[1], kernels.encodePng(grey, size[0], size[1], 1, PNG_LEVEL));
    }
  }

  @Override
  public Png pairs(
      MemorySegment originals,
      MemorySegment reconstructions,
      int n,
      int height,
      int width,
      int columns) {
    int[] size = kernels.gridSize(2 * n, height, width, 2 * columns, GAP);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment grey = arena.allocate((long) size[0] * size[1]);
      kernels.tilePairs(originals, reconstructions, n, height, width, columns, GAP, 0f, 1f, grey);
      return new Png(size[0], size[1], kernels.encodePng(grey, size[0], size[1], 1, PNG_LEVEL));
    }
  }

  @Override
  public Png scatter(
      MemorySegment points,
      MemorySegment labels,
      int n,
      float xMin,
      float xMax,
      float yMin,
      float yMax,
      int size,
      List<String> classNames) {
    int width = size + LEGEND_WIDTH;
    byte[] bytes =
        backgrounds
            .computeIfAbsent(
                new BackgroundKey(size, List.copyOf(classNames)),
                k -> rgbaBackground(k.size(), k.size() + LEGEND_WIDTH, k.classNames()))
            .clone();
    int zx = Math.round((0 - xMin) / (xMax - xMin) * (size - 1));
    int zy = Math.round((yMax - 0) / (yMax - yMin) * (size - 1));
    for (int i = 1; i < size - 1; i++) {
      if (zx > 0 && zx < size - 1) {
        grey(bytes, (i * width + zx) * 4, 0xdd);
      }
      if (zy > 0 && zy < size - 1) {
        grey(bytes, (zy * width + i) * 4, 0xdd);
      }
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rgba = arena.allocate(bytes.length);
      MemorySegment.copy(bytes, 0, rgba, ValueLayout.JAVA_BYTE, 0, bytes.length);
      kernels.scatterRgba(points, labels, n, xMin, xMax, yMin, yMax, size, rgba, width, size);
      return new Png(width, size, encodeFewColours(arena, rgba, width, size));
    }
  }

  /**
   * A palette PNG when the image has at most 256 colours (a scatter of ten classes on white nearly
   * always has), a quarter of the bytes to deflate and to send; else RGBA.
   */
  private byte[] encodeFewColours(Arena arena, MemorySegment rgba, int width, int height) {
    int pixels = width * height;
    MemorySegment indices = arena.allocate(pixels);
    int[] colours = new int[256];
    int entries = 0;
    java.util.HashMap<Integer, Integer> index = new java.util.HashMap<>();
    int last = -1;
    int lastIndex = 0;
    for (int i = 0; i < pixels; i++) {
      int rgb =
          (rgba.get(ValueLayout.JAVA_BYTE, 4L * i) & 0xff) << 16
              | (rgba.get(ValueLayout.JAVA_BYTE, 4L * i + 1) & 0xff) << 8
              | rgba.get(ValueLayout.JAVA_BYTE, 4L * i + 2) & 0xff;
      if (rgb != last) {
        Integer k = index.get(rgb);
        if (k == null) {
          if (entries == 256) {
            return kernels.encodePng(rgba, width, height, 4, PNG_LEVEL);
          }
          k = entries;
          colours[entries++] = rgb;
          index.put(rgb, k);
        }
        last = rgb;
        lastIndex = k;
      }
      indices.set(ValueLayout.JAVA_BYTE, i, (byte) lastIndex);
    }
    byte[] palette = new byte[3 * entries];
    for (int i = 0; i < entries; i++) {
      palette[3 * i] = (byte) (colours[i] >> 16);
      palette[3 * i + 1] = (byte) (colours[i] >> 8);
      palette[3 * i + 2] = (byte) colours[i];
    }
    return kernels.encodeIndexedPng(indices, width, height, palette, entries, INDEXED_PNG_LEVEL);
  }

  private static void grey(byte[] rgba, int p, int v) {
    rgba[p] = (byte) v;
    rgba[p + 1] = (byte) v;
    rgba[p + 2] = (byte) v;
  }

  private record BackgroundKey(int size, List<String> classNames) {}

  /**
   * Frame, legend and white plot area depend only on size and classes: drawn once, copied per
   * frame.
   */
  private final java.util.Map<BackgroundKey, byte[]> backgrounds =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static byte[] rgbaBackground(int size, int width, List<String> classNames) {
    BufferedImage canvas = background(size, width, classNames);
    int[] argb = ((java.awt.image.DataBufferInt) canvas.getRaster().getDataBuffer()).getData();
    byte[] bytes = new byte[argb.length * 4];
    for (int i = 0, p = 0; i < argb.length; i++, p += 4) {
      int c = argb[i];
      bytes[p] = (byte) (c >> 16);
      bytes[p + 1] = (byte) (c >> 8);
      bytes[p + 2] = (byte) c;
      bytes[p + 3] = (byte) (c >>> 24);
    }
    return bytes;
  }

  /** White plot area with a frame, and the legend on the right. */
  private static BufferedImage background(int size, int width, List<String> classNames) {
    BufferedImage img = new BufferedImage(width, size, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, size);
    g.setColor(new Color(0x999999));
    g.drawRect(0, 0, size - 1, size - 1);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    for (int c = 0; c < classNames.size(); c++) {
      int y = 16 + c * 20;
      g.setColor(new Color(PALETTE[c % PALETTE.length]));
      g.fillRect(size + 12, y - 10, 12, 12);
      g.setColor(Color.DARK_GRAY);
      g.drawString(classNames.get(c), size + 30, y);
    }
    g.dispose();
    return img;
  }
}
