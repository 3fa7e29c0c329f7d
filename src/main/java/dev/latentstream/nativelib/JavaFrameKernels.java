package dev.latentstream.nativelib;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import javax.imageio.ImageIO;

/**
 * The kernels in plain Java (PNG through ImageIO): always available, same pixels as the native
 * ones.
 */
public final class JavaFrameKernels implements FrameKernels, TrainingKernels {

  static final int[][] PALETTE = {
    {0x1f, 0x77, 0xb4},
    {0xff, 0x7f, 0x0e},
    {0x2c, 0xa0, 0x2c},
    {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd},
    {0x8c, 0x56, 0x4b},
    {0xe3, 0x77, 0xc2},
    {0x7f, 0x7f, 0x7f},
    {0xbc, 0xbd, 0x22},
    {0x17, 0xbe, 0xcf}
  };
  static final int POINT_ALPHA = 176;

  @Override
  public Kind kind() {
    return Kind.JAVA;
  }

  @Override
  public String implementation() {
    return "java";
  }

  @Override
  public int[] gridSize(int n, int h, int w, int columns, int gap) {
    if (n < 1 || h < 1 || w < 1 || columns < 1 || gap < 0 || h > 65535 || w > 65535) {
      throw new NativeFrameException("gridSize", -1, "invalid argument", n, h, w, columns, gap);
    }
    int cols = Math.min(columns, n);
    int rows = (n + cols - 1) / cols;
    long width = (long) cols * w + (long) (cols + 1) * gap;
    long height = (long) rows * h + (long) (rows + 1) * gap;
    if (width > 65535 || height > 65535) {
      throw new NativeFrameException("gridSize", -1, "invalid argument", n, h, w, columns, gap);
    }
    return new int[] {(int) width, (int) height};
  }

  static int toByte(float v, float lo, float scale, float hi) {
    if (!(v > lo)) {
      return 0;
    }
    if (v >= hi) {
      return 255;
    }
    return (int) ((v - lo) * scale + 0.5f);
  }

  private void tile(
      MemorySegment[] sources,
      int tiles,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst,
      String call) {
    if (!(hi > lo)) {
      throw new NativeFrameException(
          call, -1, "invalid argument", tiles, h, w, columns, gap, lo, hi);
    }
    int[] size = gridSize(tiles, h, w, columns, gap);
    int nsrc = sources.length;
    for (MemorySegment s : sources) {
      if (s.byteSize() < (long) (tiles / nsrc) * h * w * 4) {
        throw new NativeFrameException(call, -2, "buffer too small", tiles, h, w, s.byteSize());
      }
    }
    if (dst.byteSize() < (long) size[0] * size[1]) {
      throw new NativeFrameException(call, -2, "buffer too small", tiles, h, w, dst.byteSize());
    }
    int cols = Math.min(columns, tiles);
    float scale = 255.0f / (hi - lo);
    dst.asSlice(0, (long) size[0] * size[1]).fill((byte) 0);
    for (int t = 0; t < tiles; t++) {
      MemorySegment img = sources[t % nsrc];
      long base = (long) (t / nsrc) * h * w;
      int ox = gap + (t % cols) * (w + gap);
      int oy = gap + (t / cols) * (h + gap);
      for (int y = 0; y < h; y++) {
        long row = (long) (oy + y) * size[0] + ox;
        for (int x = 0; x < w; x++) {
          float v = img.getAtIndex(ValueLayout.JAVA_FLOAT, base + (long) y * w + x);
          dst.set(ValueLayout.JAVA_BYTE, row + x, (byte) toByte(v, lo, scale, hi));
        }
      }
    }
  }

  @Override
  public void tileGrey(
      MemorySegment src,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst) {
    tile(new MemorySegment[] {src}, n, h, w, columns, gap, lo, hi, dst, "tileGrey");
  }

  @Override
  public void tilePairs(
      MemorySegment originals,
      MemorySegment reconstructions,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst) {
    if (n < 1 || columns < 1) {
      throw new NativeFrameException("tilePairs", -1, "invalid argument", n, columns);
    }
    tile(
        new MemorySegment[] {originals, reconstructions},
        2 * n,
        h,
        w,
        2 * columns,
        gap,
        lo,
        hi,
        dst,
        "tilePairs");
  }

  @Override
  public void scatterRgba(
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
      int height) {
    if (n < 0 || size < 2 || width < size || height < size || !(xMax > xMin) || !(yMax > yMin)) {
      throw new NativeFrameException("scatterRgba", -1, "invalid argument", n, size, width, height);
    }
    if (rgba.byteSize() < (long) width * height * 4) {
      throw new NativeFrameException(
          "scatterRgba", -2, "buffer too small", n, width, height, rgba.byteSize());
    }
    KernelArguments.points("scatterRgba", xy, labels, n);
    for (int i = 0; i < n; i++) {
      float x = xy.getAtIndex(ValueLayout.JAVA_FLOAT, 2L * i);
      float y = xy.getAtIndex(ValueLayout.JAVA_FLOAT, 2L * i + 1);
      if (!Float.isFinite(x) || !Float.isFinite(y)) {
        continue;
      }
      int px = (int) Math.floor((x - xMin) / (xMax - xMin) * (float) (size - 1) + 0.5f);
      int py = (int) Math.floor((yMax - y) / (yMax - yMin) * (float) (size - 1) + 0.5f);
      if (px < 0 || py < 0 || px >= size || py >= size) {
        continue;
      }
      int[] c = PALETTE[Math.floorMod(labels.getAtIndex(ValueLayout.JAVA_INT, i), 10)];
      for (int dy = -2; dy <= 2; dy++) {
        for (int dx = -2; dx <= 2; dx++) {
          int qx = px + dx;
          int qy = py + dy;
          if (dx * dx + dy * dy > 5 || qx < 0 || qy < 0 || qx >= size || qy >= size) {
            continue;
          }
          long p = ((long) qy * width + qx) * 4;
          for (int k = 0; k < 3; k++) {
            int old = rgba.get(ValueLayout.JAVA_BYTE, p + k) & 0xff;
            rgba.set(
                ValueLayout.JAVA_BYTE,
                p + k,
                (byte) ((c[k] * POINT_ALPHA + old * (255 - POINT_ALPHA) + 127) / 255));
          }
          rgba.set(ValueLayout.JAVA_BYTE, p + 3, (byte) 255);
        }
      }
    }
  }

  @Override
  public byte[] encodePng(MemorySegment pixels, int width, int height, int channels, int level) {
    if (width < 1 || height < 1 || (channels != 1 && channels != 4)) {
      throw new NativeFrameException("encodePng", -1, "invalid argument", width, height, channels);
    }
    if (pixels.byteSize() < (long) width * height * channels) {
      throw new NativeFrameException(
          "encodePng", -2, "buffer too small", width, height, channels, pixels.byteSize());
    }
    BufferedImage img =
        new BufferedImage(
            width,
            height,
            channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_4BYTE_ABGR);
    byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    if (channels == 1) {
      MemorySegment.copy(pixels, ValueLayout.JAVA_BYTE, 0, data, 0, width * height);
    } else {
      for (int i = 0; i < width * height; i++) {
        long p = 4L * i;
        data[4 * i] = pixels.get(ValueLayout.JAVA_BYTE, p + 3);
        data[4 * i + 1] = pixels.get(ValueLayout.JAVA_BYTE, p + 2);
        data[4 * i + 2] = pixels.get(ValueLayout.JAVA_BYTE, p + 1);
        data[4 * i + 3] = pixels.get(ValueLayout.JAVA_BYTE, p);
      }
    }
    return png(img, width * height / 2);
  }

  @Override
  public byte[] encodeIndexedPng(
      MemorySegment indices, int width, int height, byte[] paletteRgb, int entries, int level) {
    if (width < 1 || height < 1 || entries < 1 || entries > 256 || level < 0 || level > 9) {
      throw new NativeFrameException(
          "encodeIndexedPng", -1, "invalid argument", width, height, entries, level);
    }
    if (indices.byteSize() < (long) width * height) {
      throw new NativeFrameException(
          "encodeIndexedPng", -2, "buffer too small", width, height, indices.byteSize());
    }
    KernelArguments.palette("encodeIndexedPng", paletteRgb, entries);
    byte[] r = new byte[entries];
    byte[] g = new byte[entries];
    byte[] b = new byte[entries];
    for (int i = 0; i < entries; i++) {
      r[i] = paletteRgb[3 * i];
      g[i] = paletteRgb[3 * i + 1];
      b[i] = paletteRgb[3 * i + 2];
    }
    IndexColorModel model = new IndexColorModel(8, entries, r, g, b);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, model);
    byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    MemorySegment.copy(indices, ValueLayout.JAVA_BYTE, 0, data, 0, width * height);
    for (byte v : data) {
      if ((v & 0xff) >= entries) {
        throw new NativeFrameException(
            "encodeIndexedPng", -1, "invalid argument", width, height, entries, v & 0xff);
      }
    }
    return png(img, width * height / 4);
  }

  /** {@code img} as PNG through ImageIO, into a buffer that starts at {@code expected} bytes. */
  private static byte[] png(BufferedImage img, int expected) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(expected + 1024);
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  public double bceWithLogits(
      MemorySegment logits, MemorySegment target, long n, float gradScale, MemorySegment grad) {
    KernelArguments.floats("bceWithLogits", n, logits, target, grad);
    double sum = 0;
    for (long i = 0; i < n; i++) {
      float l = logits.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      float x = target.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      float e = (float) Math.exp(-Math.abs(l));
      sum += Math.max(l, 0f) - l * x + (float) Math.log1p(e);
      float s = l >= 0 ? 1f / (1f + e) : e / (1f + e);
      grad.setAtIndex(ValueLayout.JAVA_FLOAT, i, (s - x) * gradScale);
    }
    return sum;
  }

  @Override
  public void adamStep(
      MemorySegment param,
      MemorySegment grad,
      MemorySegment expAvg,
      MemorySegment expAvgSq,
      long n,
      float lr,
      float beta1,
      float beta2,
      float eps,
      long step) {
    if (step < 1
        || !(beta1 >= 0 && beta1 < 1)
        || !(beta2 >= 0 && beta2 < 1)
        || !(eps > 0)
        || !(lr >= 0)) {
      throw new NativeFrameException(
          "adamStep", -1, "invalid argument", n, lr, beta1, beta2, eps, step);
    }
    KernelArguments.floats("adamStep", n, param, grad, expAvg, expAvgSq);
    float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
    float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
    float c1 = 1 - beta1;
    float c2 = 1 - beta2;
    for (long i = 0; i < n; i++) {
      float g = grad.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      float m = beta1 * expAvg.getAtIndex(ValueLayout.JAVA_FLOAT, i) + c1 * g;
      float v = beta2 * expAvgSq.getAtIndex(ValueLayout.JAVA_FLOAT, i) + c2 * g * g;
      expAvg.setAtIndex(ValueLayout.JAVA_FLOAT, i, m);
      expAvgSq.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
      param.setAtIndex(
          ValueLayout.JAVA_FLOAT,
          i,
          param.getAtIndex(ValueLayout.JAVA_FLOAT, i)
              - stepSize * m / ((float) Math.sqrt(v) / bias2Sqrt + eps));
    }
  }

  @Override
  public void biasAct(MemorySegment y, MemorySegment bias, long rows, long cols, boolean relu) {
    KernelArguments.floats("biasAct", rows * cols, y);
    KernelArguments.floats("biasAct", cols, bias);
    for (long r = 0; r < rows; r++) {
      for (long c = 0; c < cols; c++) {
        float v =
            y.getAtIndex(ValueLayout.JAVA_FLOAT, r * cols + c)
                + bias.getAtIndex(ValueLayout.JAVA_FLOAT, c);
        y.setAtIndex(ValueLayout.JAVA_FLOAT, r * cols + c, relu && !(v > 0) ? 0f : v);
      }
    }
  }

  @Override
  public void reluGradColsum(
      MemorySegment grad, MemorySegment act, long rows, long cols, MemorySegment biasGrad) {
    KernelArguments.reluGradColsum("reluGradColsum", grad, act, rows, cols, biasGrad);
    for (long c = 0; c < cols; c++) {
      biasGrad.setAtIndex(ValueLayout.JAVA_FLOAT, c, 0f);
    }
    for (long r = 0; r < rows; r++) {
      for (long c = 0; c < cols; c++) {
        long i = r * cols + c;
        float g =
            act != null && !(act.getAtIndex(ValueLayout.JAVA_FLOAT, i) > 0)
                ? 0f
                : grad.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        grad.setAtIndex(ValueLayout.JAVA_FLOAT, i, g);
        biasGrad.setAtIndex(
            ValueLayout.JAVA_FLOAT, c, biasGrad.getAtIndex(ValueLayout.JAVA_FLOAT, c) + g);
      }
    }
  }

  @Override
  public void vaeSample(
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      long n,
      MemorySegment z,
      MemorySegment std) {
    KernelArguments.floats("vaeSample", n, mu, logVar, eps, z, std);
    for (long i = 0; i < n; i++) {
      float s = (float) Math.exp(0.5f * logVar.getAtIndex(ValueLayout.JAVA_FLOAT, i));
      std.setAtIndex(ValueLayout.JAVA_FLOAT, i, s);
      z.setAtIndex(
          ValueLayout.JAVA_FLOAT,
          i,
          mu.getAtIndex(ValueLayout.JAVA_FLOAT, i) + eps.getAtIndex(ValueLayout.JAVA_FLOAT, i) * s);
    }
  }

  @Override
  public double vaeLatentBackward(
      MemorySegment gradZ,
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      MemorySegment std,
      long n,
      float klScale,
      MemorySegment gradMu,
      MemorySegment gradLogVar) {
    KernelArguments.floats("vaeLatentBackward", n, gradZ, mu, logVar, eps, std, gradMu, gradLogVar);
    double sum = 0;
    for (long i = 0; i < n; i++) {
      double m = mu.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      double lv = logVar.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      double variance = Math.exp(lv);
      float gz = gradZ.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      sum += -0.5 * (1 + lv - m * m - variance);
      gradMu.setAtIndex(ValueLayout.JAVA_FLOAT, i, gz + (float) (klScale * m));
      gradLogVar.setAtIndex(
          ValueLayout.JAVA_FLOAT,
          i,
          gz
                  * eps.getAtIndex(ValueLayout.JAVA_FLOAT, i)
                  * 0.5f
                  * std.getAtIndex(ValueLayout.JAVA_FLOAT, i)
              + (float) (klScale * 0.5 * (variance - 1)));
    }
    return sum;
  }

  @Override
  public void gatherUnit(
      MemorySegment pixels,
      long images,
      long imageSize,
      MemorySegment order,
      long count,
      MemorySegment out) {
    KernelArguments.gather("gatherUnit", pixels, images, imageSize, order, count, out);
    for (long i = 0; i < count; i++) {
      long image = order.getAtIndex(ValueLayout.JAVA_LONG, i);
      if (image < 0 || image >= images) {
        throw new NativeFrameException("gatherUnit", -1, "invalid argument", image, images);
      }
    }
    for (long i = 0; i < count; i++) {
      long from = order.getAtIndex(ValueLayout.JAVA_LONG, i) * imageSize;
      for (long j = 0; j < imageSize; j++) {
        out.setAtIndex(
            ValueLayout.JAVA_FLOAT,
            i * imageSize + j,
            (pixels.get(ValueLayout.JAVA_BYTE, from + j) & 0xff) / 255f);
      }
    }
  }
}
