package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainer of a run the command line trains ({@code train}, {@code sweep}, {@code bench}): its
 * checkpoints and its files in one run directory, frames and diagnostics at epoch ends only.
 */
final class HeadlessRun {
  private HeadlessRun() {}

  /**
   * A trainer of {@code config} on {@code data} into {@code runDir}, continuing from its checkpoint
   * when {@code fromCheckpoint}; {@code listeners} hear every event after the run directory's
   * writer.
   */
  static Trainer trainer(
      JobConfig config,
      Dataset data,
      Path runDir,
      FrameRenderer renderer,
      boolean fromCheckpoint,
      TrainingListener... listeners) {
    List<TrainingListener> all = new ArrayList<>();
    all.add(new RunDirectoryWriter(runDir));
    all.addAll(List.of(listeners));
    Trainer trainer =
        new Trainer(
            config,
            data,
            new Checkpoint(runDir),
            renderer,
            TrainingListener.compose(all.toArray(TrainingListener[]::new)),
            fromCheckpoint);
    trainer.framesAtEpochEndsOnly();
    return trainer;
  }
}
