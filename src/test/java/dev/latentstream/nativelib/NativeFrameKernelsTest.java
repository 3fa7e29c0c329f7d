package dev.latentstream.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The native kernels against the Java ones: the same bytes on random and edge-case inputs. */
class NativeFrameKernelsTest {

  static final FrameKernels NATIVE = Kernels.best();
  static final FrameKernels JAVA = new JavaFrameKernels();

  @Test
  void theNativeLibraryLoadsInTheBuild() {
    assertTrue(
        NATIVE.implementation().startsWith("native lsframes"),
        NATIVE.implementation() + ", because " + Kernels.fallbackReason());
  }

  static float[] randomImages(int count, long seed, boolean edges) {
    Random r = new Random(seed);
    float[] v = new float[count];
    for (int i = 0; i < count; i++) {
      v[i] = r.nextFloat() * 1.4f - 0.2f;
    }
    if (edges && count > 8) {
      v[0] = Float.NaN;
      v[1] = Float.POSITIVE_INFINITY;
      v[2] = Float.NEGATIVE_INFINITY;
      v[3] = 0.5f;
      v[4] = 1.0f;
      v[5] = 0.0f;
      v[6] = 1e30f;
      v[7] = 0.5f / 255f;
    }
    return v;
  }

  static byte[] tile(FrameKernels k, float[] images, int n, int h, int w, int columns) {
    int[] size = k.gridSize(n, h, w, columns, 2);
    byte[] out = new byte[size[0] * size[1]];
    k.tileGrey(
        MemorySegment.ofArray(images), n, h, w, columns, 2, 0f, 1f, MemorySegment.ofArray(out));
    return out;
  }

  @ParameterizedTest
  @CsvSource({"1,28,28,8", "7,28,28,3", "128,28,28,16", "5,3,9,2", "64,28,28,8"})
  void tilesAreIdenticalToTheJavaKernels(int n, int h, int w, int columns) {
    float[] images = randomImages(n * h * w, n * 31L + h, true);
    assertArrayEquals(tile(JAVA, images, n, h, w, columns), tile(NATIVE, images, n, h, w, columns));
    assertArrayEquals(JAVA.gridSize(n, h, w, columns, 2), NATIVE.gridSize(n, h, w, columns, 2));
  }

  @Test
  void pairsAreIdenticalAndReadTensorLikeNativeMemoryInPlace() {
    int n = 32;
    float[] a = randomImages(n * 784, 1, true);
    float[] b = randomImages(n * 784, 2, false);
    int[] size = JAVA.gridSize(2 * n, 28, 28, 16, 2);
    byte[] java = new byte[size[0] * size[1]];
    JAVA.tilePairs(
        MemorySegment.ofArray(a),
        MemorySegment.ofArray(b),
        n,
        28,
        28,
        8,
        2,
        0f,
        1f,
        MemorySegment.ofArray(java));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment na = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
      MemorySegment nb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
      MemorySegment out = arena.allocate(java.length);
      NATIVE.tilePairs(na, nb, n, 28, 28, 8, 2, 0f, 1f, out);
      assertArrayEquals(java, out.toArray(ValueLayout.JAVA_BYTE));
    }
  }

  @Test
  void scattersAreIdentical() {
    Random r = new Random(5);
    int n = 10_000;
    float[] xy = new float[2 * n];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      xy[2 * i] = (float) r.nextGaussian();
      xy[2 * i + 1] = (float) r.nextGaussian();
      labels[i] = r.nextInt(12) - 1;
    }
    xy[0] = Float.NaN;
    xy[3] = 100f;
    byte[] java = new byte[600 * 512 * 4];
    byte[] nat = new byte[600 * 512 * 4];
    Arrays.fill(java, (byte) 200);
    Arrays.fill(nat, (byte) 200);
    JAVA.scatterRgba(
        MemorySegment.ofArray(xy),
        MemorySegment.ofArray(labels),
        n,
        -3,
        3,
        -3,
        3,
        512,
        MemorySegment.ofArray(java),
        600,
        512);
    NATIVE.scatterRgba(
        MemorySegment.ofArray(xy),
        MemorySegment.ofArray(labels),
        n,
        -3,
        3,
        -3,
        3,
        512,
        MemorySegment.ofArray(nat),
        600,
        512);
    assertArrayEquals(java, nat);
  }

  @Test
  void pngsDecodeToTheSamePixels() throws Exception {
    byte[] grey = tile(JAVA, randomImages(10 * 784, 3, true), 10, 28, 28, 5);
    int[] size = JAVA.gridSize(10, 28, 28, 5, 2);
    BufferedImage fromJava =
        ImageIO.read(
            new ByteArrayInputStream(
                JAVA.encodePng(MemorySegment.ofArray(grey), size[0], size[1], 1, 6)));
    BufferedImage fromNative =
        ImageIO.read(
            new ByteArrayInputStream(
                NATIVE.encodePng(MemorySegment.ofArray(grey), size[0], size[1], 1, 6)));
    assertEquals(fromJava.getWidth(), fromNative.getWidth());
    for (int y = 0; y < size[1]; y++) {
      for (int x = 0; x < size[0]; x++) {
        assertEquals(
            fromJava.getRaster().getSample(x, y, 0), fromNative.getRaster().getSample(x, y, 0));
        assertEquals(grey[y * size[0] + x] & 0xff, fromNative.getRaster().getSample(x, y, 0));
      }
    }
    byte[] rgba = new byte[7 * 3 * 4];
    new Random(9).nextBytes(rgba);
    BufferedImage colour =
        ImageIO.read(
            new ByteArrayInputStream(NATIVE.encodePng(MemorySegment.ofArray(rgba), 7, 3, 4, 9)));
    int argb = colour.getRGB(2, 1);
    int p = (1 * 7 + 2) * 4;
    assertEquals(
        ((rgba[p + 3] & 0xff) << 24)
            | ((rgba[p] & 0xff) << 16)
            | ((rgba[p + 1] & 0xff) << 8)
            | (rgba[p + 2] & 0xff),
        argb);
  }

  @Test
  void palettePngsShowThePaletteColoursFromBothKernels() throws Exception {
    int w = 13;
    int h = 5;
    byte[] palette = {
      (byte) 255,
      (byte) 255,
      (byte) 255,
      31,
      119,
      (byte) 180,
      (byte) 255,
      127,
      14,
      44,
      (byte) 160,
      44
    };
    byte[] indices = new byte[w * h];
    Random r = new Random(5);
    for (int i = 0; i < indices.length; i++) {
      indices[i] = (byte) r.nextInt(4);
    }
    for (FrameKernels k : new FrameKernels[] {NATIVE, JAVA}) {
      BufferedImage img =
          ImageIO.read(
              new ByteArrayInputStream(
                  k.encodeIndexedPng(MemorySegment.ofArray(indices), w, h, palette, 4, 6)));
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int i = indices[y * w + x];
          int rgb =
              (palette[3 * i] & 0xff) << 16
                  | (palette[3 * i + 1] & 0xff) << 8
                  | palette[3 * i + 2] & 0xff;
          assertEquals(rgb, img.getRGB(x, y) & 0xffffff, k.implementation() + " at " + x + "," + y);
        }
      }
    }
    indices[3] = 4;
    for (FrameKernels k : new FrameKernels[] {NATIVE, JAVA}) {
      assertThrows(
          NativeFrameException.class,
          () -> k.encodeIndexedPng(MemorySegment.ofArray(indices), w, h, palette, 4, 6),
          "an index past the palette");
    }
  }

  /** Two points onto an 8 x 8 image of {@code rgbaBytes} bytes, x from {@code xMin} to 1. */
  static void scatter(FrameKernels k, float xMin, int rgbaBytes) {
    k.scatterRgba(
        MemorySegment.ofArray(new float[4]),
        MemorySegment.ofArray(new int[2]),
        2,
        xMin,
        1,
        0,
        1,
        8,
        MemorySegment.ofArray(new byte[rgbaBytes]),
        8,
        8);
  }

  @Test
  void badArgumentsAndSmallBuffersGiveErrorsNotCrashes() {
    for (FrameKernels k : new FrameKernels[] {JAVA, NATIVE}) {
      MemorySegment img = MemorySegment.ofArray(new float[784]);
      assertThrows(
          NativeFrameException.class,
          () -> k.gridSize(0, 28, 28, 8, 2),
          k.implementation() + " empty batch");
      assertThrows(
          NativeFrameException.class,
          () -> k.tileGrey(img, 1, 28, 28, 1, 2, 0, 1, MemorySegment.ofArray(new byte[10])),
          "small dst");
      assertThrows(
          NativeFrameException.class,
          () -> k.tileGrey(img, 2, 28, 28, 1, 2, 0, 1, MemorySegment.ofArray(new byte[100_000])),
          "short src");
      assertThrows(
          NativeFrameException.class,
          () -> k.tileGrey(img, 1, 28, 28, 1, 2, 1, 1, MemorySegment.ofArray(new byte[100_000])),
          "hi <= lo");
      assertThrows(
          NativeFrameException.class,
          () -> k.encodePng(MemorySegment.ofArray(new byte[3]), 2, 2, 1, 6),
          "short pixels");
      assertThrows(NativeFrameException.class, () -> scatter(k, 1, 256), "x range");
      assertThrows(NativeFrameException.class, () -> scatter(k, 0, 16), "small rgba");
    }
    NativeFrameException e =
        assertThrows(
            NativeFrameException.class,
            () ->
                NATIVE.tileGrey(
                    MemorySegment.ofArray(new float[784]),
                    1,
                    28,
                    28,
                    1,
                    2,
                    0,
                    1,
                    MemorySegment.ofArray(new byte[10])));
    assertTrue(
        e.getMessage().contains("buffer too small") && e.getMessage().contains("lsf_tile_grey"),
        e.getMessage());
  }
}
