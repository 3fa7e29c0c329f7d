package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.optim.Optim;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;

/**
 * Where a {@link Trainer} keeps what it needs to resume: the weights, every optimiser's state and
 * the progress. The run directory's {@code rundir.Checkpoint} is the implementation; the loop only
 * knows this interface, so the run-directory format has one owner, above the loop.
 *
 * <p>Both methods run on the trainer thread, with the trainer's own model and optimisers.
 */
public interface CheckpointStore {

  /**
   * Progress stored beside the weights. {@code epoch} counts completed epochs and {@code step} the
   * steps taken. {@code inEpoch} is null for a checkpoint at an epoch boundary, and otherwise says
   * how far into epoch {@code epoch + 1} the run had come (a stop ends a run between two steps of
   * an epoch). {@code note} is null, or, when it was loaded from a fallback, says which file and
   * why (for the user).
   */
  record Progress(
      JobConfig job, int epoch, long step, int height, int width, InEpoch inEpoch, String note) {
    public Progress(JobConfig job, int epoch, long step, int height, int width) {
      this(job, epoch, step, height, width, null, null);
    }

    public Progress(JobConfig job, int epoch, long step, int height, int width, InEpoch inEpoch) {
      this(job, epoch, step, height, width, inEpoch, null);
    }

    public Progress withNote(String note) {
      return new Progress(job, epoch, step, height, width, inEpoch, note);
    }

    /** Where this checkpoint stands, for people: "after epoch 2" or "in epoch 3, after batch 5". */
    public String where() {
      return inEpoch == null
          ? "after epoch " + epoch
          : "in epoch " + (epoch + 1) + ", after batch " + inEpoch.batches();
    }
  }

  /**
   * A run's position inside an epoch: the batches of the epoch's permutation already trained, the
   * per-image sums of the training terms over them (so the epoch's mean terms come out as if it had
   * not been interrupted), the seconds spent in the epoch so far, and libtorch's generator state at
   * the stop ({@link GeneratorState}; null when not known, and then the rest of the epoch draws
   * other random numbers than an uninterrupted run would).
   */
  record InEpoch(int batches, Map<String, Double> sums, double seconds, byte[] generator) {
    public InEpoch {
      if (batches < 1) {
        throw new IllegalArgumentException(
            "a position inside an epoch has at least one batch done, got " + batches);
      }
      // In the order the loss reports its terms, as an uninterrupted epoch sums them.
      sums = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(sums));
    }
  }

  void save(Module model, List<Optim> optimizers, Progress progress);

  /** Restores the weights and optimiser states in place and returns the stored progress. */
  Progress load(Module model, List<Optim> optimizers);
}
