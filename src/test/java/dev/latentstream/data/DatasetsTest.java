package dev.latentstream.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

  static void writeDataset(Path dir, Split train, Split test) throws IOException {
    Files.createDirectories(dir);
    Idx.write(
        dir.resolve("train-images-idx3-ubyte.gz"),
        new int[] {train.count(), train.rows(), train.cols()},
        train.pixels());
    Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {train.count()}, train.labels());
    Idx.write(
        dir.resolve("t10k-images-idx3-ubyte"),
        new int[] {test.count(), test.rows(), test.cols()},
        test.pixels());
    Idx.write(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {test.count()}, test.labels());
  }

  @Test
  void loadsRealFashionMnistFromTheDebianPackage() {
    Dataset d = Datasets.load("fashion-mnist", null);
    assertEquals(60_000, d.train().count());
    assertEquals(10_000, d.test().count());
    assertEquals(28, d.train().rows());
    assertEquals("Ankle boot", d.classNames().get(9));
  }

  @Test
  void theDataDirComesFirstInTheSearchPath(@TempDir Path dataDir) throws IOException {
    Dataset small = Synthetic.generate(20, 10, 1);
    writeDataset(dataDir.resolve("fashion-mnist"), small.train(), small.test());
    Dataset d = Datasets.load("fashion-mnist", dataDir);
    assertEquals(20, d.train().count(), "found under --data-dir before /usr/share/datasets");
    assertEquals("T-shirt/top", d.classNames().getFirst());
  }

  @Test
  void loadsAnyIdxDirectoryByPath(@TempDir Path dir) throws IOException {
    Dataset small = Synthetic.generate(30, 12, 2);
    writeDataset(dir, small.train(), small.test());
    Dataset d = Datasets.load(dir.toString(), null);
    assertEquals(30, d.train().count());
    assertEquals(12, d.test().count());
    assertEquals(10, d.classNames().size());
  }

  @Test
  void aRelativeDirectoryIsLookedForUnderTheDataDir(@TempDir Path dataDir) throws IOException {
    Dataset small = Synthetic.generate(25, 5, 4);
    writeDataset(dataDir.resolve("mine/digits"), small.train(), small.test());
    assertEquals(
        25,
        Datasets.load("mine/digits", dataDir).train().count(),
        "what a server's client may name");
    assertTrue(
        Datasets.find("mine/digits", null).isEmpty(),
        "without a dataDir, relative to the working directory");
  }

  @Test
  void syntheticIsGeneratedByNameWithoutFiles() {
    Dataset d =
        Datasets.ensure(
            Datasets.SYNTHETIC,
            null,
            line -> {
              throw new AssertionError("nothing to fetch: " + line);
            });
    assertEquals("synthetic", d.name());
    assertEquals(6000, d.train().count());
    assertEquals(1000, d.test().count());
    assertEquals(Synthetic.CLASS_NAMES, d.classNames());
  }

  @Test
  void aMissingDatasetSaysWhereItLookedAndWhatToRun(@TempDir Path dataDir) {
    String m = Datasets.missing("mnist", dataDir).getMessage();
    assertTrue(m.contains(dataDir.resolve("mnist").toString()), m);
    assertTrue(m.contains("looked in") && m.contains("latentstream datasets fetch mnist"), m);
    String other =
        assertThrows(DataException.class, () -> Datasets.load("cifar", null)).getMessage();
    assertTrue(other.contains("neither a known name"), other);
  }

  @Test
  void syntheticDataIsDeterministicAndBalanced() {
    Dataset a = Synthetic.generate(100, 20, 9);
    Dataset b = Synthetic.generate(100, 20, 9);
    assertEquals(
        java.util.Arrays.hashCode(a.train().pixels()),
        java.util.Arrays.hashCode(b.train().pixels()));
    int[] counts = new int[10];
    for (int i = 0; i < 100; i++) {
      counts[a.train().label(i)]++;
    }
    for (int c : counts) {
      assertEquals(10, c);
    }
  }
}
