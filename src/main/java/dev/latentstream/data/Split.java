package dev.latentstream.data;

/**
 * One split of an image dataset, as stored in IDX files: {@code count} images of {@code rows x
 * cols} unsigned bytes (0 = background, 255 = ink), row-major, and one label per image. Immutable
 * by convention: nobody writes to the arrays after loading.
 */
public record Split(byte[] pixels, byte[] labels, int count, int rows, int cols) {
  public Split {
    if (pixels.length != (long) count * rows * cols) {
      throw new IllegalArgumentException(
          "pixels: expected " + (long) count * rows * cols + " bytes, got " + pixels.length);
    }
    if (labels.length != count) {
      throw new IllegalArgumentException("labels: expected " + count + ", got " + labels.length);
    }
  }

  public int imageSize() {
    return rows * cols;
  }

  public int label(int i) {
    return labels[i] & 0xff;
  }
}
