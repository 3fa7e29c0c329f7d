package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.optim.Optim;
import java.util.List;
import org.bytedeco.pytorch.Module;

/**
 * Where a {@link Trainer} keeps what it needs to resume: the weights, every optimiser's state and the
 * progress. The run directory's {@code rundir.Checkpoint} is the implementation; the loop only knows
 * this interface, so the run-directory format has one owner, above the loop.
 *
 * <p>Both methods run on the trainer thread, with the trainer's own model and optimisers.
 */
public interface CheckpointStore {

  /**
   * Progress stored beside the weights. {@code epoch} counts completed epochs. {@code note} is null, or,
   * when it was loaded from a fallback, says which file and why (for the user).
   */
  record Progress(JobConfig job, int epoch, long step, int height, int width, String note) {
    public Progress(JobConfig job, int epoch, long step, int height, int width) {
      this(job, epoch, step, height, width, null);
    }

    public Progress withNote(String note) {
      return new Progress(job, epoch, step, height, width, note);
    }
  }

  void save(Module model, List<Optim> optimizers, Progress progress);

  /** Restores the weights and optimiser states in place and returns the stored progress. */
  Progress load(Module model, List<Optim> optimizers);
}
