package dev.latentstream.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The pure-Java renderer: tiles with plain loops, draws scatters with Java2D and encodes PNG with
 * ImageIO. It needs nothing native, so it is always available.
 */
public final class JavaFrameRenderer implements FrameRenderer {

  /** Gap between tiles, in pixels. */
  public static final int GAP = 2;

  /** The tab10 palette, one colour per class (cycled beyond ten). */
  public static final int[] PALETTE = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2,
      0x7f7f7f, 0xbcbd22, 0x17becf};

  static final int LEGEND_WIDTH = 150;

  @Override
  public String implementation() {
    return "java";
  }

  @Override
  public Png grid(MemorySegment images, int n, int height, int width, int columns) {
    check(images, (long) n * height * width, "images");
    return encodeGrey(tile(n, height, width, columns, (tile, y, x) ->
        images.getAtIndex(ValueLayout.JAVA_FLOAT, ((long) tile * height + y) * width + x)));
  }

  @Override
  public Png pairs(MemorySegment originals, MemorySegment reconstructions, int n, int height, int width, int columns) {
    check(originals, (long) n * height * width, "originals");
    check(reconstructions, (long) n * height * width, "reconstructions");
    return encodeGrey(tile(2 * n, height, width, 2 * columns, (tile, y, x) -> {
      MemorySegment src = tile % 2 == 0 ? originals : reconstructions;
      return src.getAtIndex(ValueLayout.JAVA_FLOAT, ((long) (tile / 2) * height + y) * width + x);
    }));
  }

  interface Pixel {
    float at(int tile, int y, int x);
  }

  private static BufferedImage tile(int n, int height, int width, int columns, Pixel pixel) {
    if (n < 1 || height < 1 || width < 1 || columns < 1) {
      throw new IllegalArgumentException("empty grid: n=" + n + ", " + height + "x" + width + ", columns=" + columns);
    }
    int cols = Math.min(columns, n);
    int rows = (n + cols - 1) / cols;
    int w = cols * width + (cols + 1) * GAP;
    int h = rows * height + (rows + 1) * GAP;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    byte[] out = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    for (int t = 0; t < n; t++) {
      int ox = GAP + (t % cols) * (width + GAP);
      int oy = GAP + (t / cols) * (height + GAP);
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          out[(oy + y) * w + ox + x] = (byte) toByte(pixel.at(t, y, x));
        }
      }
    }
    return img;
  }

  /** [0, 1] to 0..255, clamping out-of-range values; NaN renders as 0. */
  static int toByte(float v) {
    if (!(v > 0)) {
      return 0;
    }
    if (v >= 1) {
      return 255;
    }
    return Math.round(v * 255f);
  }

  @Override
  public Png scatter(MemorySegment points, MemorySegment labels, int n, float xMin, float xMax, float yMin,
      float yMax, int size, List<String> classNames) {
    check(points, 2L * n, "points");
    if (labels.byteSize() < 4L * n) {
      throw new IllegalArgumentException("labels: need " + n + " int32 values, segment holds " + labels.byteSize() / 4);
    }
    if (!(xMax > xMin) || !(yMax > yMin) || size < 16) {
      throw new IllegalArgumentException("bad scatter range or size");
    }
    BufferedImage img = new BufferedImage(size + LEGEND_WIDTH, size, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(new Color(0xdddddd));
    int zx = (int) ((0 - xMin) / (xMax - xMin) * (size - 1));
    int zy = (int) ((yMax - 0) / (yMax - yMin) * (size - 1));
    if (zx > 0 && zx < size) {
      g.drawLine(zx, 0, zx, size - 1);
    }
    if (zy > 0 && zy < size) {
      g.drawLine(0, zy, size - 1, zy);
    }
    for (int i = 0; i < n; i++) {
      float x = points.getAtIndex(ValueLayout.JAVA_FLOAT, 2L * i);
      float y = points.getAtIndex(ValueLayout.JAVA_FLOAT, 2L * i + 1);
      if (!Float.isFinite(x) || !Float.isFinite(y)) {
        continue;
      }
      int label = labels.getAtIndex(ValueLayout.JAVA_INT, i);
      int px = Math.round((x - xMin) / (xMax - xMin) * (size - 1));
      int py = Math.round((yMax - y) / (yMax - yMin) * (size - 1));
      if (px < 0 || py < 0 || px >= size || py >= size) {
        continue;
      }
      g.setColor(new Color(PALETTE[Math.floorMod(label, PALETTE.length)] | 0xb0000000, true));
      g.fillOval(px - 2, py - 2, 5, 5);
    }
    g.setColor(new Color(0x999999));
    g.setStroke(new BasicStroke(1));
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
    return encode(img);
  }

  private static void check(MemorySegment s, long floats, String what) {
    if (s.byteSize() < floats * 4) {
      throw new IllegalArgumentException(what + ": need " + floats + " floats, segment holds " + s.byteSize() / 4);
    }
  }

  private static Png encodeGrey(BufferedImage img) {
    return encode(img);
  }

  static Png encode(BufferedImage img) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(img.getWidth() * img.getHeight() / 2 + 1024);
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Png(img.getWidth(), img.getHeight(), out.toByteArray());
  }
}
