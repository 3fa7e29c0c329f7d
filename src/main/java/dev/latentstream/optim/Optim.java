package dev.latentstream.optim;

import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

/**
 * An optimiser as the trainer uses it: libtorch's own ({@link Optimizers.Libtorch}) or the fused
 * Adam step ({@link FusedAdam}). Owned by the trainer thread; closed by it at the end of the run.
 */
public interface Optim extends AutoCloseable {

  void zeroGrad();

  void step();

  /**
   * Steps with the given gradients, one segment of floats per parameter in parameter order, instead
   * of the parameters' own {@code grad}; false, with nothing changed, when this optimiser cannot.
   */
  default boolean stepWith(java.util.List<java.lang.foreign.MemorySegment> gradients) {
    return false;
  }

  /**
   * As {@link #stepWith(java.util.List)}, with the update split between this thread and {@code
   * work}'s helper where the optimiser can (the fused Adam); the others step on this thread alone.
   */
  default boolean stepWith(
      java.util.List<java.lang.foreign.MemorySegment> gradients,
      dev.latentstream.nativelib.SplitWork work) {
    return stepWith(gradients);
  }

  /** Whether {@link #stepWith} works here. */
  default boolean stepsWithGradients() {
    return false;
  }

  void setLearningRate(double lr);

  double learningRate();

  /** Writes the state (moments, step count, learning rate) for a checkpoint. */
  void save(OutputArchive archive);

  /** Restores what {@link #save} wrote, learning rate included. */
  void load(InputArchive archive);

  @Override
  void close();
}
