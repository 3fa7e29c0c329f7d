package dev.latentstream.cli;

import dev.latentstream.rundir.Checkpoint;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --run DIR} option of the commands that read a run's checkpoint (export, sample,
 * evaluate): a picocli mixin, so the option and its refusal are written once.
 */
final class RunOption {

  @Option(
      names = "--run",
      paramLabel = "DIR",
      required = true,
      description = "A run directory (from train or serve).")
  Path dir;

  /**
   * The run directory, which holds a checkpoint.
   *
   * @throws UserError naming the checkpoint file it expected
   */
  Path withCheckpoint() {
    if (!Checkpoint.exists(dir)) {
      throw new UserError(dir + " has no checkpoint (expected " + Checkpoint.file(dir) + ")");
    }
    return dir;
  }
}
