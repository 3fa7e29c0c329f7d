package dev.latentstream.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of the MNIST family: a magic number {@code 0x00 0x00 type dims}, one big-endian
 * 32-bit size per dimension, then the data. Only unsigned bytes (type 0x08) are used here. Files
 * may be gzipped (detected by content, not by name). Every inconsistency is a {@link DataException}
 * naming the file.
 */
public final class Idx {

  /** A parsed IDX file: its dimensions and unsigned-byte data. */
  public record Array(int[] dims, byte[] data) {}

  private Idx() {}

  /**
   * Reads the file straight into one array of the data's exact size: reading it whole first and
   * then copying the data out held three copies of Fashion-MNIST's 47 MB training images at once,
   * and the dead ones stayed on the Java heap (too big for the young generation) for the rest of
   * the run.
   */
  public static Array read(Path file) {
    try (InputStream in = open(file)) {
      return parse(in, file.toString());
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": file not found");
    } catch (EOFException | ZipException e) {
      throw new DataException(file + ": truncated or corrupt gzip data (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new DataException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static InputStream open(Path file) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    raw.mark(2);
    int b0 = raw.read();
    int b1 = raw.read();
    raw.reset();
    return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
  }

  static Array parse(InputStream in, String name) throws IOException {
    byte[] b = in.readNBytes(4);
    if (b.length < 4) {
      throw new DataException(name + ": too short for an IDX header (" + b.length + " bytes)");
    }
    if (b[0] != 0 || b[1] != 0) {
      throw new DataException(
          name
              + String.format(
                  ": bad magic number 0x%02x%02x%02x%02x (not an IDX file)",
                  b[0], b[1], b[2], b[3]));
    }
    if (b[2] != 0x08) {
      throw new DataException(
          name + String.format(": element type 0x%02x is not unsigned byte (0x08)", b[2]));
    }
    int dimCount = b[3] & 0xff;
    if (dimCount < 1 || dimCount > 4) {
      throw new DataException(name + ": " + dimCount + " dimensions; expected 1 to 4");
    }
    byte[] sizes = in.readNBytes(4 * dimCount);
    if (sizes.length < 4 * dimCount) {
      throw new DataException(name + ": truncated header");
    }
    int[] dims = new int[dimCount];
    long expected = 1;
    for (int i = 0; i < dimCount; i++) {
      int o = 4 * i;
      dims[i] =
          ((sizes[o] & 0xff) << 24)
              | ((sizes[o + 1] & 0xff) << 16)
              | ((sizes[o + 2] & 0xff) << 8)
              | (sizes[o + 3] & 0xff);
      if (dims[i] < 0) {
        throw new DataException(name + ": dimension " + i + " is negative");
      }
      expected *= dims[i];
    }
    if (expected > Integer.MAX_VALUE - 8) {
      throw new DataException(
          name + ": header promises " + expected + " bytes of data, more than one array holds");
    }
    byte[] data = in.readNBytes((int) expected);
    if (data.length < expected) {
      throw new DataException(
          name
              + ": truncated: header promises "
              + expected
              + " bytes of data, file has "
              + data.length);
    }
    long trailing = in.transferTo(OutputStream.nullOutputStream());
    if (trailing > 0) {
      throw new DataException(
          name
              + ": "
              + trailing
              + " bytes of trailing data after the "
              + expected
              + " the header promises");
    }
    return new Array(dims, data);
  }

  /** Reads an image file and its label file into one split, checking that they agree. */
  public static Split readSplit(Path images, Path labels) {
    Array img = read(images);
    Array lab = read(labels);
    if (img.dims().length != 3) {
      throw new DataException(
          images + ": expected 3 dimensions (count, rows, cols), got " + img.dims().length);
    }
    if (lab.dims().length != 1) {
      throw new DataException(labels + ": expected 1 dimension (count), got " + lab.dims().length);
    }
    if (img.dims()[0] != lab.dims()[0]) {
      throw new DataException(
          images
              + " has "
              + img.dims()[0]
              + " images but "
              + labels
              + " has "
              + lab.dims()[0]
              + " labels");
    }
    return new Split(img.data(), lab.data(), img.dims()[0], img.dims()[1], img.dims()[2]);
  }

  /**
   * Writes unsigned-byte IDX, gzipped when the name ends in {@code .gz}; atomically (temp file,
   * rename).
   */
  public static void write(Path file, int[] dims, byte[] data) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".part");
    try (OutputStream raw = Files.newOutputStream(tmp);
        OutputStream z =
            file.toString().endsWith(".gz") ? new GZIPOutputStream(raw, 1 << 16) : raw;
        DataOutputStream out = new DataOutputStream(z)) {
      out.writeInt(0x0800 | dims.length);
      for (int d : dims) {
        out.writeInt(d);
      }
      out.write(data);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** IDX bytes in memory (not gzipped), for tests and imports. */
  public static byte[] encode(int[] dims, byte[] data) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(0x0800 | dims.length);
      for (int d : dims) {
        out.writeInt(d);
      }
      out.write(data);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }
}
