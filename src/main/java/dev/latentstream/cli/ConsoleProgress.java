package dev.latentstream.cli;

import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.SettingChange;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The headless run's terminal output: a progress bar (step, loss, images/s, ETA) on a terminal, and
 * one plain line per epoch otherwise, so logs stay readable. Runs on the trainer thread.
 */
final class ConsoleProgress implements TrainingListener {

  private final PrintStream out;
  private final boolean terminal;
  private ProgressBar bar;
  private int epochs;
  private Diagnostics diagnostics;

  ConsoleProgress(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  static boolean isTerminal() {
    java.io.Console c = System.console();
    return c != null && c.isTerminal();
  }

  @Override
  public void onStart(RunStart start) {
    epochs = start.job().epochs();
    out.printf(
        Locale.ROOT,
        "training %s: %s on %s (%d train / %d test images), %d epochs of %d steps, device %s, engine %s%n",
        start.job().name(),
        start.job().model().wireName(),
        start.job().dataset(),
        start.trainCount(),
        start.testCount(),
        epochs,
        start.batchesPerEpoch(),
        start.device(),
        start.engine().wireName());
    if (start.startStep() > 0) {
      // A stopped run was checkpointed at its step, which may lie inside an epoch.
      long batch = start.startStep() - (long) start.startEpoch() * start.batchesPerEpoch();
      if (batch > 0) {
        out.printf(
            Locale.ROOT,
            "resuming at step %d (epoch %d, after batch %d)%n",
            start.startStep(),
            start.startEpoch() + 1,
            batch);
      } else {
        out.printf(
            Locale.ROOT,
            "resuming at step %d (after epoch %d)%n",
            start.startStep(),
            start.startEpoch());
      }
      if (start.resumeNote() != null) {
        out.println(start.resumeNote());
      }
    }
    if (terminal) {
      bar =
          new ProgressBarBuilder()
              .setTaskName("train")
              .setInitialMax((long) epochs * start.batchesPerEpoch())
              .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
              .setUpdateIntervalMillis(200)
              .showSpeed()
              .setUnit(" steps", 1)
              .startsFrom(start.startStep(), Duration.ZERO)
              .build();
    }
  }

  @Override
  public void onStep(StepMetrics step) {
    if (bar != null) {
      bar.stepTo(step.step());
      bar.setExtraMessage(
          String.format(
              Locale.ROOT,
              "epoch %d/%d loss %.2f %,.0f img/s",
              step.epoch(),
              epochs,
              step.loss(),
              step.imagesPerSecond()));
    }
  }

  @Override
  public void onEpoch(EpochResult e) {
    String line =
        String.format(
            Locale.ROOT,
            "epoch %d/%d  train loss %.3f  test loss %.3f  %.2f s",
            e.epoch(),
            epochs,
            e.trainTerms().getOrDefault("loss", Double.NaN),
            e.testLoss(),
            e.seconds());
    if (diagnostics != null && diagnostics.step() == e.step()) {
      line +=
          String.format(
              Locale.ROOT,
              "  active units %d/%d",
              diagnostics.activeUnits(),
              diagnostics.values().length);
    }
    println(line);
  }

  @Override
  public void onDiagnostics(Diagnostics d) {
    diagnostics = d;
  }

  @Override
  public void onWarning(Warning w) {
    println("warning (" + w.code() + ") at step " + w.step() + ": " + w.message());
  }

  private void println(String line) {
    if (bar != null) {
      bar.pause();
      out.println(line);
      bar.resume();
    } else {
      out.println(line);
    }
  }

  @Override
  public void onSettingChanged(SettingChange c) {
    out.printf(Locale.ROOT, "setting %s = %s at step %d%n", c.key(), c.value(), c.step());
  }

  @Override
  public void onFinished(RunSummary s) {
    if (bar != null) {
      bar.close();
    }
  }
}
