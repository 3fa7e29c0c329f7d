package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import java.util.Map;

/**
 * When a run checkpoints and what it keeps: at every epoch's end, inside an epoch when it stops or
 * every {@code checkpointEverySeconds}, and, to resume, what it reads back. The format belongs to
 * the {@link CheckpointStore} above the loop.
 *
 * <p>Owner: the trainer thread, with the run's own model and optimisers ({@link RunParts}).
 */
final class Checkpointer {

  private final JobConfig job;
  private final CheckpointStore store;
  private final TrainingListener listener;
  private final int height;
  private final int width;

  /** The step of the newest checkpoint, saved or loaded: a stop there has nothing new to keep. */
  private long savedStep;

  /**
   * When the newest checkpoint was taken (or the run set up): the clock for {@code
   * checkpointEverySeconds}.
   */
  private long savedAt = System.nanoTime();

  Checkpointer(
      JobConfig job, CheckpointStore store, TrainingListener listener, int height, int width) {
    this.job = job;
    this.store = store;
    this.listener = listener;
    this.height = height;
    this.width = width;
  }

  /**
   * Loads the checkpoint into the run's model and optimisers and returns where it stands. A place
   * inside an epoch whose random-generator state this libtorch cannot take comes back without it,
   * with a note saying that the rest of the epoch draws other numbers.
   */
  CheckpointStore.Progress resume(RunParts parts) {
    CheckpointStore.Progress p = store.load(parts.model, parts.rule.optimizers());
    savedStep = p.step();
    CheckpointStore.InEpoch at = p.inEpoch();
    if (at == null || at.generator() == null || GeneratorState.fits(at.generator())) {
      return p;
    }
    // Another libtorch wrote it: the run can still go on, only not with the numbers it would have
    // drawn.
    String note =
        (p.note() == null ? "" : p.note() + "; ")
            + "the checkpoint's random-generator state does not fit this libtorch, so the rest of"
            + " epoch "
            + (p.epoch() + 1)
            + " draws other random numbers";
    return new CheckpointStore.Progress(
        p.job(),
        p.epoch(),
        p.step(),
        p.height(),
        p.width(),
        new CheckpointStore.InEpoch(at.batches(), at.sums(), at.seconds(), null),
        note);
  }

  /** Restarts the clock of {@code checkpointEverySeconds}: the run starts training now. */
  void startClock() {
    savedAt = System.nanoTime();
  }

  /** Whether {@code checkpointEverySeconds} have passed since the newest checkpoint. */
  boolean due() {
    return job.checkpointEverySeconds() > 0
        && System.nanoTime() - savedAt >= job.checkpointEverySeconds() * 1_000_000_000L;
  }

  /** The checkpoint at the end of epoch {@code epoch} (completed epochs), at {@code step}. */
  void atEpochEnd(RunParts parts, int epoch, long step) {
    save(parts, new CheckpointStore.Progress(job, epoch, step, height, width));
  }

  /**
   * A stop (or {@code checkpointEverySeconds}) between two steps of epoch {@code e}, with {@code
   * done} of its batches trained: the run is checkpointed at this step, with what it needs to
   * finish the epoch as if it had not stopped. Nothing new since the newest checkpoint, or no batch
   * of the epoch done, keeps nothing.
   */
  void inEpoch(
      RunParts parts, int e, int done, long step, Map<String, Double> sums, double seconds) {
    if (step == savedStep || done == 0) {
      return;
    }
    save(
        parts,
        new CheckpointStore.Progress(
            job,
            e - 1,
            step,
            height,
            width,
            new CheckpointStore.InEpoch(
                done, sums, seconds, GeneratorState.save(parts.generator))));
  }

  private void save(RunParts parts, CheckpointStore.Progress progress) {
    listener.onCheckpointing(progress.step());
    store.save(parts.model, parts.rule.optimizers(), progress);
    savedStep = progress.step();
    savedAt = System.nanoTime();
  }
}
