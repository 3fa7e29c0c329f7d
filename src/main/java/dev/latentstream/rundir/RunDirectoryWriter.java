package dev.latentstream.rundir;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.runformat.WriteFence;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameKind;
import dev.latentstream.wire.SettingChange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Keeps a run directory up to date — the layout shared by headless {@code train} and the server:
 * {@code job.json} (with its {@code result}: the engine that ran and, once a run completes, such
 * figures as the IWAE bound), {@code metrics.csv}, {@code loss.png}, and per epoch {@code
 * reconst-E.png}, {@code sampled-E.png}, {@code latent-E.png}, {@code manifold-E.png} and {@code
 * diagnostics-E.png} ({@code checkpoint/} is the trainer's, through {@link Checkpoint}). The names
 * readers use are {@link RunLayout}'s. Runs on the trainer thread, like every listener.
 */
public final class RunDirectoryWriter implements TrainingListener {

  private final Path dir;
  private final MetricsCsv metrics;
  private final LossPlot plot = new LossPlot();
  private final DiagnosticsPlot diagnosticsPlot = new DiagnosticsPlot();
  private Diagnostics latestDiagnostics;
  private RunStart start;
  private final Map<FrameKind, Frame> latest = new EnumMap<>(FrameKind.class);
  private String title = "";

  /** The job as the run trains it, and once it completes its {@code result}. */
  public static final String JOB_FILE = "job.json";

  /** The writes of a run that another node may take over go through it ({@link RunFence}). */
  private final WriteFence fence;

  public RunDirectoryWriter(Path dir) {
    this(dir, WriteFence.NONE);
  }

  /**
   * A writer of {@code dir} that writes only inside {@code fence}: the files a resumed run reads
   * ({@code metrics.csv}, {@code job.json}) and those of each epoch, so a node of a failover group
   * that lost the run writes none of them.
   */
  public RunDirectoryWriter(Path dir, WriteFence fence) {
    this.dir = dir;
    this.fence = fence;
    this.metrics = new MetricsCsv(dir.resolve(MetricsCsv.FILE), fence);
  }

  private void fenced(WriteFence.Write write) {
    try {
      fence.commit(write);
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(dir, e);
    }
  }

  @Override
  public void onStart(RunStart start) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(dir, e);
    }
    // The engine the run uses, from its start: a run that does not complete says it too.
    var json = JobConfigs.toTree(start.job());
    json.putObject("result").put("engine", start.engine().wireName());
    fenced(
        () -> {
          // What a process killed while writing left: this run is the directory's only writer now.
          AtomicFile.removeTemporaries(dir);
          AtomicFile.removeTemporaries(dir.resolve("checkpoint"));
          AtomicFile.write(
              dir.resolve(JOB_FILE), json.toPrettyString().getBytes(StandardCharsets.UTF_8));
        });
    this.start = start;
    title =
        start.job().name()
            + " ("
            + start.job().model().wireName()
            + ", "
            + start.job().dataset()
            + ")";
    metrics.open(start.lossTerms(), start.startStep());
    if (start.startStep() > 0) {
      reloadPlot(start.startStep());
    }
  }

  private void reloadPlot(long upTo) {
    Path file = dir.resolve(MetricsCsv.FILE);
    try {
      for (MetricsCsv.Row row : MetricsCsv.read(file).rows()) {
        if (row.step() > upTo) {
          break;
        }
        if (!row.terms().isEmpty()) {
          plot.add(new StepMetrics(row.step(), row.epoch(), 0, 0, row.terms(), 0, 0));
        }
        if (!Double.isNaN(row.testLoss())) {
          plot.addTest(row.step(), row.testLoss());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void onStep(StepMetrics step) {
    metrics.step(step.step(), step.epoch(), step.terms(), step.elapsedSeconds());
    plot.add(step);
  }

  @Override
  public void onSettingChanged(SettingChange change) {
    metrics.setting(change.key(), change.value());
  }

  @Override
  public void onDiagnostics(Diagnostics d) {
    metrics.diagnostics(d.activeUnits(), d.topKFraction());
    diagnosticsPlot.add(d);
    latestDiagnostics = d;
  }

  @Override
  public void onWarning(Warning w) {
    metrics.warning(w.code());
  }

  @Override
  public void onFrame(Frame frame) {
    latest.put(frame.kind(), frame);
  }

  @Override
  public void onEpoch(EpochResult epoch) {
    metrics.epoch(epoch.testLoss());
    plot.addTest(epoch.step(), epoch.testLoss());
    fenced(
        () -> {
          plot.write(dir.resolve("loss.png"), title);
          for (Frame f : latest.values()) {
            if (f.epoch() == epoch.epoch() && f.step() == epoch.step()) {
              write(dir.resolve(RunLayout.frameFile(f.kind(), epoch.epoch())), f.png());
            }
          }
          if (latestDiagnostics != null && latestDiagnostics.step() == epoch.step()) {
            diagnosticsPlot.write(
                dir.resolve(DiagnosticsPlot.fileName(epoch.epoch())), latestDiagnostics, title);
          }
        });
  }

  @Override
  public void onCheckpointing(long step) {
    metrics.commit();
  }

  /**
   * Closes metrics.csv, draws the final loss plot and, for a completed run, records its {@code
   * result} in job.json: the engine, the final test loss, epochs and steps of every model, and a
   * VAE's IWAE bound. Each part is tried even when one before it fails (a full disk); the first
   * failure is thrown at the end.
   */
  @Override
  public void onFinished(RunSummary summary) {
    RuntimeException failure = null;
    try {
      metrics.close();
    } catch (RuntimeException e) {
      failure = e;
    }
    try {
      fenced(
          () -> {
            if (summary.steps() > 0 && start != null) {
              plot.write(dir.resolve("loss.png"), title);
            }
            if (start != null
                && summary.status() == RunSummary.Status.COMPLETED
                && Double.isFinite(summary.testLoss())) {
              AtomicFile.write(
                  dir.resolve(JOB_FILE), resultJson(summary).getBytes(StandardCharsets.UTF_8));
            }
          });
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private String resultJson(RunSummary summary) {
    var json = JobConfigs.toTree(start.job());
    var result =
        json.putObject("result")
            .put("engine", start.engine().wireName())
            .put("testLoss", summary.testLoss())
            .put("epochs", summary.epochs())
            .put("steps", summary.steps());
    if (Double.isFinite(summary.iwae())) {
      result.put("iwae", summary.iwae()).put("iwaeSamples", start.job().iwaeSamples());
    }
    return json.toPrettyString();
  }

  private static void write(Path file, byte[] bytes) {
    AtomicFile.write(file, bytes);
  }
}
