package dev.latentstream.optim;

import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

/**
 * An optimiser as the trainer uses it: libtorch's own ({@link Optimizers.Libtorch}) or the fused Adam
 * step ({@link FusedAdam}). Owned by the trainer thread; closed by it at the end of the run.
 */
public interface Optim extends AutoCloseable {

  void zeroGrad();

  void step();

  void setLearningRate(double lr);

  double learningRate();

  /** Writes the state (moments, step count, learning rate) for a checkpoint. */
  void save(OutputArchive archive);

  /** Restores what {@link #save} wrote, learning rate included. */
  void load(InputArchive archive);

  @Override
  void close();
}
