package dev.latentstream.rundir;

import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import java.io.IOException;
import java.util.List;

/**
 * Keeps a headless run's {@link RunStatus} ({@code status.json}) up to date: {@code running} from
 * the start, with the progress and test loss of each epoch, then how it ended: {@code completed},
 * {@code failed} with the reason, or {@code stopped} after its user's Ctrl-C or SIGTERM. A server
 * keeps its jobs' status itself (a shutdown's are {@code interrupted}). Runs on the trainer thread.
 */
public final class RunStatusWriter implements TrainingListener {

  private final java.nio.file.Path dir;
  private RunStatus status;

  public RunStatusWriter(java.nio.file.Path dir) {
    this.dir = dir;
  }

  @Override
  public void onStart(RunStart start) {
    double testLoss = Double.NaN;
    if (start.startStep() > 0) {
      try {
        // The last epoch's test loss, from before the resume.
        testLoss = RunStatus.read(dir).map(RunStatus::testLoss).orElse(Double.NaN);
      } catch (IOException damaged) {
        // It is rewritten below.
      }
    }
    status =
        new RunStatus(
            RunStatus.RUNNING,
            start.startStep(),
            start.startEpoch(),
            start.job().epochs(),
            start.batchesPerEpoch(),
            testLoss,
            start.classNames(),
            null,
            System.currentTimeMillis());
    status.write(dir);
  }

  @Override
  public void onStep(StepMetrics step) {
    status = progress(step.step(), status.epoch(), status.testLoss());
  }

  @Override
  public void onEpoch(EpochResult epoch) {
    status = progress(epoch.step(), epoch.epoch(), epoch.testLoss());
    status.write(dir);
  }

  private RunStatus progress(long step, int epoch, double testLoss) {
    return new RunStatus(
        status.status(),
        step,
        epoch,
        status.epochs(),
        status.batchesPerEpoch(),
        testLoss,
        status.classes(),
        null,
        System.currentTimeMillis());
  }

  @Override
  public void onFinished(RunSummary summary) {
    if (status == null) {
      // The run failed before it started (its files could not be written, no model): what the run
      // said before
      // still stands, only its end is new.
      try {
        status = RunStatus.read(dir).orElse(null);
      } catch (IOException damaged) {
        status = null;
      }
      if (status == null) {
        status =
            new RunStatus(
                RunStatus.RUNNING,
                summary.steps(),
                summary.epochs(),
                0,
                0,
                Double.NaN,
                List.of(),
                null,
                0);
      }
    }
    String ended =
        switch (summary.status()) {
          case COMPLETED -> RunStatus.COMPLETED;
          // A headless run stops only when its user signals it: stopped, not interrupted, so a
          // server that later lists the run leaves it for the user's --resume.
          case STOPPED -> RunStatus.STOPPED;
          case FAILED -> RunStatus.FAILED;
        };
    status =
        progress(
                summary.steps(),
                summary.epochs(),
                Double.isNaN(summary.testLoss()) ? status.testLoss() : summary.testLoss())
            .with(ended, summary.error());
    status.write(dir);
  }
}
