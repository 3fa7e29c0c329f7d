package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Threads;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code latentstream train}: a headless run that writes PNGs, metrics, a loss plot and checkpoints. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train one job headless, writing frames, metrics, a loss plot and checkpoints to a run directory.")
public final class TrainCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--job", paramLabel = "FILE",
      description = "Job spec (JSON), e.g. config/jobs/vae-fashion.json. With --resume, defaults to the run's own job.")
  Path job;

  @Option(names = "--epochs", paramLabel = "N", description = "Override the job's epoch count.")
  Integer epochs;

  @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: runs/<job>-<timestamp>).")
  Path out;

  @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
  boolean resume;

  @Option(names = "--engine", paramLabel = "ENGINE",
      description = "libtorch, native or auto: override the job's engine (also on --resume).")
  String engine;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Look for datasets here first.")
  Path dataDir;

  @Option(names = "--plain", description = "Plain log lines instead of a progress bar.")
  boolean plain;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    JobConfig config = resolveJob();
    if (epochs != null) {
      if (epochs < 1) {
        throw new UserError("--epochs must be at least 1, got " + epochs);
      }
      config = config.withEpochs(epochs);
    }
    if (engine != null) {
      config = config.withEngine(engine(engine));
    }
    Path runDir = out != null ? out : Path.of("runs", config.name() + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    String warning = Threads.environmentWarning();
    if (warning != null) {
      err.println("latentstream: warning: " + warning);
    }
    Dataset data = Datasets.load(config.dataset(), dataDir);
    FrameRenderer renderer = Renderers.best();
    System.out.println("frames rendered by " + renderer.implementation());

    ConsoleProgress console = new ConsoleProgress(System.out, !plain && ConsoleProgress.isTerminal());
    Trainer trainer = new Trainer(config, data, new Checkpoint(runDir), renderer,
        TrainingListener.compose(new RunDirectoryWriter(runDir), console), resume);
    trainer.framesAtEpochEndsOnly();

    CountDownLatch done = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      trainer.stop();
      try {
        done.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "latentstream-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    RunSummary summary;
    try {
      summary = trainer.run();
    } finally {
      done.countDown();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is already running: it waits for us
    }
    String iwae = Double.isNaN(summary.iwae()) ? "" : String.format(Locale.ROOT,
        ", IWAE bound log p(x) >= %.3f nats per image (K=%d)", summary.iwae(), config.iwaeSamples());
    System.out.printf(Locale.ROOT, "%s: %d epochs, final test loss %.3f per image%s, %.2f s per epoch, run in %s%n",
        summary.status().name().toLowerCase(Locale.ROOT), summary.epochs(), summary.testLoss(), iwae,
        summary.secondsPerEpoch(), runDir);
    if (summary.status() == RunSummary.Status.FAILED) {
      err.println("latentstream: training failed: " + summary.error());
      return 1;
    }
    return summary.status() == RunSummary.Status.STOPPED ? 130 : 0;
  }

  /** {@code --engine}'s value, or a UserError naming the three. */
  static JobConfig.Engine engine(String name) {
    try {
      return JobConfig.Engine.of(name);
    } catch (dev.latentstream.config.ConfigException e) {
      throw new UserError("--engine must be libtorch, native or auto, got \"" + name + "\"");
    }
  }

  private JobConfig resolveJob() {
    if (resume) {
      if (out == null) {
        throw new UserError("--resume needs --out DIR, the run directory to continue");
      }
      if (!Checkpoint.exists(out)) {
        throw new UserError(out + " has no checkpoint to resume from (expected " + Checkpoint.file(out) + ")");
      }
      JobConfig fromRun = Checkpoint.readProgress(out).job();
      if (job != null) {
        JobConfig given = JobConfigs.load(job);
        // The engine may change on a resume: checkpoints are the same whichever engine wrote them.
        if (!given.withEpochs(fromRun.epochs()).withEngine(fromRun.engine()).equals(fromRun)) {
          throw new UserError(job + " differs from the job of the run in " + out
              + "; resume without --job, or start a new run");
        }
      }
      return fromRun;
    }
    if (job == null) {
      throw new UserError("--job FILE is required (for example --job config/jobs/vae-fashion.json)");
    }
    return JobConfigs.load(job);
  }
}
