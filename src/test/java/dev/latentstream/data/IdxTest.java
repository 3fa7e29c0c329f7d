package dev.latentstream.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

  @TempDir Path dir;

  static final byte[] PIXELS = {0, 1, 2, 3, 4, 5, (byte) 200, (byte) 255, 9, 10, 11, 12};

  private String failure(byte[] content) throws IOException {
    Path f = dir.resolve("bad-idx3-ubyte");
    Files.write(f, content);
    String m = assertThrows(DataException.class, () -> Idx.read(f)).getMessage();
    assertTrue(m.startsWith(f.toString()), "names the file: " + m);
    return m;
  }

  @Test
  void roundTripsRawAndGzippedFiles() throws IOException {
    for (String name : new String[] {"x-idx3-ubyte", "x-idx3-ubyte.gz"}) {
      Path f = dir.resolve(name);
      Idx.write(f, new int[] {3, 2, 2}, PIXELS);
      Idx.Array a = Idx.read(f);
      assertArrayEquals(new int[] {3, 2, 2}, a.dims());
      assertArrayEquals(PIXELS, a.data());
    }
  }

  @Test
  void rejectsABadMagicNumber() throws IOException {
    assertTrue(failure(new byte[] {1, 2, 3, 4, 0, 0, 0, 0}).contains("bad magic number"));
  }

  @Test
  void rejectsAnElementTypeOtherThanUnsignedBytes() throws IOException {
    assertTrue(failure(new byte[] {0, 0, 0x0d, 1, 0, 0, 0, 0}).contains("not unsigned byte"));
  }

  @Test
  void rejectsATruncatedBody() throws IOException {
    byte[] full = Idx.encode(new int[] {3, 2, 2}, PIXELS);
    assertTrue(failure(Arrays.copyOf(full, full.length - 5)).contains("truncated"));
  }

  @Test
  void rejectsATruncatedHeader() throws IOException {
    assertTrue(failure(new byte[] {0, 0, 8, 3, 0, 0}).contains("truncated header"));
  }

  @Test
  void rejectsTrailingBytes() throws IOException {
    byte[] full = Idx.encode(new int[] {3, 2, 2}, PIXELS);
    assertTrue(failure(Arrays.copyOf(full, full.length + 3)).contains("trailing"));
  }

  @Test
  void rejectsATruncatedGzipStream() throws IOException {
    Path good = dir.resolve("g.gz");
    Idx.write(good, new int[] {3, 2, 2}, PIXELS);
    byte[] gz = Files.readAllBytes(good);
    assertTrue(failure(Arrays.copyOf(gz, gz.length - 8)).contains("gzip"));
  }

  @Test
  void rejectsImagesAndLabelsThatDisagreeInCount() throws IOException {
    Path images = dir.resolve("i.gz");
    Path labels = dir.resolve("l.gz");
    Idx.write(images, new int[] {3, 2, 2}, PIXELS);
    Idx.write(labels, new int[] {2}, new byte[] {1, 2});
    String m = assertThrows(DataException.class, () -> Idx.readSplit(images, labels)).getMessage();
    assertEquals(images + " has 3 images but " + labels + " has 2 labels", m);
  }

  @Test
  void reportsAMissingFile() {
    Path missing = dir.resolve("nope.gz");
    assertEquals(
        missing + ": file not found",
        assertThrows(DataException.class, () -> Idx.read(missing)).getMessage());
  }
}
