package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.render.Renderers;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench}'s own side: one job trained here, in this process, into a temporary run directory
 * that is deleted after, with its epochs timed on the peer's work (training plus the test pass).
 */
final class BenchOurSide {
  private BenchOurSide() {}

  /**
   * Our run of {@code config}; null when its engine cannot run it ({@code native} on a job with no
   * hand-written kernel), which is said.
   */
  static BenchSide run(JobConfig config, Dataset data) throws IOException {
    BenchEnvironment.resetPeakRss();
    try (TempTree runDir = TempTree.create("latentstream-bench")) {
      EpochTimer timer = new EpochTimer();
      RunSummary s =
          HeadlessRun.trainer(config, data, runDir.dir(), Renderers.best(), false, timer).run();
      if (s.status() != RunSummary.Status.COMPLETED) {
        if (config.engine() == JobConfig.Engine.NATIVE
            && String.valueOf(s.error()).contains("cannot run this job")) {
          System.out.println("latentstream engine native: no row, " + s.error());
          return null;
        }
        throw new UserError("our run did not complete: " + s.error());
      }
      // Read before the peer starts: its process is separate, but a figure taken now is this
      // run's alone.
      return new BenchSide(
          timer.engine, config.seed(), timer.epochs, BenchEnvironment.peakRssMib(), s.iwae());
    }
  }

  /** Times our epochs on the peer's work: training plus the test pass, printed as they end. */
  private static final class EpochTimer implements TrainingListener {
    final List<BenchSide.Epoch> epochs = new ArrayList<>();
    String engine = "?";
    double lastStepSeconds;

    @Override
    public void onStart(RunStart start) {
      engine = start.engine().wireName();
      System.out.printf("latentstream engine: %s, seed %d%n", engine, start.job().seed());
    }

    @Override
    public void onStep(StepMetrics m) {
      lastStepSeconds = m.elapsedSeconds();
    }

    @Override
    public void onEpoch(EpochResult e) {
      // Epoch-end frames and the checkpoint, which the peer does not do, are reported apart.
      double same = lastStepSeconds + e.testSeconds();
      epochs.add(new BenchSide.Epoch(e.epoch(), same, e.seconds(), e.testLoss()));
      System.out.printf(
          Locale.ROOT,
          "  latentstream epoch %d: %.3f s train+test (test pass %.3f s; %.3f s with frames"
              + " and checkpoint), test loss %.3f%n",
          e.epoch(),
          same,
          e.testSeconds(),
          e.seconds(),
          e.testLoss());
    }
  }
}
