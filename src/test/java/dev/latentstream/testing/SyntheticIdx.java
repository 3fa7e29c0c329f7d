package dev.latentstream.testing;

import dev.latentstream.data.Dataset;
import dev.latentstream.data.Idx;
import dev.latentstream.data.Synthetic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@link Synthetic} data set written as the four gzipped IDX files of a job's {@code dataset}
 * directory, as Fashion-MNIST ships them: what a test trains on when any machine must have it.
 */
public final class SyntheticIdx {
  private SyntheticIdx() {}

  /** Writes {@code train} and {@code test} 28×28 images from {@code seed} into {@code dir}. */
  public static Path write(Path dir, int train, int test, long seed) throws IOException {
    Dataset d = Synthetic.generate(train, test, seed);
    int side = Synthetic.SIDE;
    Files.createDirectories(dir);
    Idx.write(
        dir.resolve("train-images-idx3-ubyte.gz"),
        new int[] {train, side, side},
        d.train().pixels());
    Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {train}, d.train().labels());
    Idx.write(
        dir.resolve("t10k-images-idx3-ubyte.gz"), new int[] {test, side, side}, d.test().pixels());
    Idx.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {test}, d.test().labels());
    return dir;
  }
}
