package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.ops.ShutdownSignals;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.rundir.RunLock;
import dev.latentstream.rundir.RunStatusWriter;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Threads;
import dev.latentstream.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code latentstream train}: a headless run that writes PNGs, metrics, a loss plot and
 * checkpoints. It never destroys a run: a new run goes to an empty or new directory, a resume that
 * has nothing left to train changes nothing, and a run directory is trained by one process at a
 * time ({@link RunLock}). SIGINT or SIGTERM checkpoints the run at its step and exits 130 or 143
 * with one line saying how to resume.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Train one job headless, writing frames, metrics, a loss plot and checkpoints to a run directory.")
public final class TrainCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--job",
      paramLabel = "FILE",
      description =
          "Job spec (JSON), e.g. config/jobs/vae-fashion.json. With --resume, defaults to the run's own job.")
  Path job;

  @Option(names = "--epochs", paramLabel = "N", description = "Override the job's epoch count.")
  Integer epochs;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Run directory, new or empty (default: runs/<job>-<timestamp>, with a suffix if taken).")
  Path out;

  @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
  boolean resume;

  @Option(
      names = "--engine",
      paramLabel = "ENGINE",
      description = "libtorch, native or auto: override the job's engine (also on --resume).")
  String engine;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Look for datasets here first.")
  Path dataDir;

  @Option(names = "--plain", description = "Plain log lines instead of a progress bar.")
  boolean plain;

  /** What the lock file says holds a run this command trains. */
  static final String HOLDER = "latentstream train";

  /** A run to train: its job, its directory (locked) and whether it continues from a checkpoint. */
  private record Run(JobConfig config, Path dir, RunLock lock, boolean fromCheckpoint) {}

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    if (epochs != null && epochs < 1) {
      throw new UserError("--epochs must be at least 1, got " + epochs);
    }
    Run run = resume ? continued() : fresh();
    if (run == null) {
      return 0;
    }
    try (RunLock lock = run.lock();
        ShutdownSignals signals = ShutdownSignals.handle()) {
      return train(run, signals, err);
    }
  }

  private int train(Run run, ShutdownSignals signals, PrintWriter err) {
    JobConfig config = run.config();
    Path runDir = run.dir();
    String warning = Threads.environmentWarning();
    if (warning != null) {
      err.println("latentstream: warning: " + warning);
    }
    Dataset data = Datasets.load(config.dataset(), dataDir);
    FrameRenderer renderer = Renderers.best();
    System.out.println("frames rendered by " + renderer.implementation());

    ConsoleProgress console =
        new ConsoleProgress(System.out, !plain && ConsoleProgress.isTerminal());
    RunStatusWriter status = new RunStatusWriter(runDir);
    Trainer trainer =
        HeadlessRun.trainer(config, data, runDir, renderer, run.fromCheckpoint(), status, console);
    // On the signal thread: the trainer stops after its step, checkpoints there, and run() returns.
    signals.first().thenRun(trainer::stop);
    RunSummary summary = trainer.run();

    switch (summary.status()) {
      case COMPLETED -> {
        printCompleted(summary, config, runDir);
        return 0;
      }
      case STOPPED -> {
        err.println(
            "latentstream: stopped at step "
                + summary.steps()
                + kept(runDir)
                + "; "
                + howToContinue(runDir));
        int exit = signals.exitStatus();
        return exit == 0 ? 130 : exit;
      }
      default -> {
        err.println(failure(summary, runDir));
        return 1;
      }
    }
  }

  private static void printCompleted(RunSummary summary, JobConfig config, Path runDir) {
    String iwae =
        Double.isNaN(summary.iwae())
            ? ""
            : String.format(
                Locale.ROOT,
                ", IWAE bound log p(x) >= %.3f nats per image (K=%d)",
                summary.iwae(),
                config.iwaeSamples());
    System.out.printf(
        Locale.ROOT,
        "completed: %d epochs, final test loss %.3f per image%s, %.2f s per epoch, run in %s%n",
        summary.epochs(),
        summary.testLoss(),
        iwae,
        summary.secondsPerEpoch(),
        runDir);
  }

  /** Why the run failed, what is kept, and how to go on. */
  private String failure(RunSummary summary, Path runDir) {
    String next =
        Checkpoint.exists(runDir)
            ? "the last whole checkpoint is kept" + kept(runDir)
            : "no checkpoint was kept";
    return "latentstream: training failed at step "
        + summary.steps()
        + ": "
        + summary.error()
        + "; "
        + next
        + "; "
        + (summary.error() != null && summary.error().startsWith("no space left")
            ? "free space, then "
            : "")
        + howToContinue(runDir);
  }

  /**
   * "resume with: latentstream train --resume ..." or, with no checkpoint, "start it again ...".
   */
  private String howToContinue(Path runDir) {
    return (Checkpoint.exists(runDir) ? "resume" : "start it again")
        + " with: "
        + resumeCommand(runDir);
  }

  /**
   * " (checkpoint at step N, after epoch E)" from the checkpoint on disk, or "" when there is none.
   */
  private static String kept(Path runDir) {
    if (!Checkpoint.exists(runDir)) {
      return "";
    }
    try {
      Checkpoint.Progress p = Checkpoint.readProgress(runDir);
      return " (checkpoint at step " + p.step() + ", " + p.where() + ")";
    } catch (RuntimeException unreadable) {
      return "";
    }
  }

  private String resumeCommand(Path runDir) {
    return "latentstream train --resume --out "
        + runDir
        + (dataDir == null ? "" : " --data-dir " + dataDir);
  }

  /**
   * A new run: in {@code --out} when it is empty or new, else in a new default directory. Refuses a
   * directory that holds anything, so no run is ever written over.
   */
  private Run fresh() {
    if (job == null) {
      throw new UserError(
          "--job FILE is required (for example --job config/jobs/vae-fashion.json)");
    }
    JobConfig config = JobConfigs.load(job);
    if (epochs != null) {
      config = config.withEpochs(epochs);
    }
    if (engine != null) {
      config = config.withEngine(engine(engine));
    }
    Path dir;
    if (out != null) {
      refuseIfNotEmpty(out);
      try {
        Files.createDirectories(out);
      } catch (IOException e) {
        throw AtomicFile.cannotWrite(out, e);
      }
      dir = out;
    } else {
      dir = newDefaultDirectory(config.name());
    }
    RunLock lock = RunLock.acquire(dir, HOLDER);
    try {
      // Another process may have started a run here between the check and the lock.
      refuseIfNotEmpty(dir);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
    return new Run(config, dir, lock, false);
  }

  private static void refuseIfNotEmpty(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new UserError(
          "--out " + dir + " is a file, not a directory; pass a new or empty directory");
    }
    try (Stream<Path> files = Files.list(dir)) {
      if (files.anyMatch(f -> !f.getFileName().toString().equals(RunLock.FILE))) {
        boolean isRun = Files.exists(dir.resolve(RunDirectoryWriter.JOB_FILE));
        throw new UserError(
            "--out "
                + dir
                + (isRun ? " holds a run" : " is not empty")
                + "; "
                + (isRun ? "continue it with --resume --out " + dir + ", or " : "")
                + "pass a new or empty directory");
      }
    } catch (IOException e) {
      throw new UserError("cannot read --out " + dir + ": " + e.getMessage(), e);
    }
  }

  /** runs/NAME-TIME, or with "-2", "-3", ... when a run started in the same second took it. */
  private static Path newDefaultDirectory(String name) {
    Path runs = Path.of("runs");
    String base =
        name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    try {
      Files.createDirectories(runs);
      for (int i = 1; ; i++) {
        Path dir = runs.resolve(i == 1 ? base : base + "-" + i);
        try {
          // Atomic: of two processes creating the same name, one gets it and the other takes the
          // next.
          return Files.createDirectory(dir);
        } catch (FileAlreadyExistsException taken) {
          // next suffix
        }
      }
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(runs, e);
    }
  }

  /**
   * The run in {@code --out}, to continue from its checkpoint (or, with none yet, from the start of
   * its job.json); null, after saying so, when it has trained the epochs asked for already.
   */
  private Run continued() {
    if (out == null) {
      throw new UserError("--resume needs --out DIR, the run directory to continue");
    }
    Run run = resumable();
    if (run == null) {
      return null;
    }
    RunLock lock = RunLock.acquire(out, HOLDER);
    try {
      // Read again under the lock: the process that held it may have trained on.
      run = resumable();
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
    if (run == null) {
      lock.close();
      return null;
    }
    return new Run(run.config(), run.dir(), lock, run.fromCheckpoint());
  }

  /** The run to continue, without its lock; null when nothing is left to train (and says so). */
  private Run resumable() {
    boolean fromCheckpoint = Checkpoint.exists(out);
    JobConfig fromRun;
    int done = 0;
    if (fromCheckpoint) {
      Checkpoint.Progress p = Checkpoint.readProgress(out);
      fromRun = p.job();
      done = p.epoch();
    } else if (Files.isRegularFile(out.resolve(RunDirectoryWriter.JOB_FILE))) {
      // Stopped or failed (a full disk) before its first checkpoint: it starts again from its job.
      fromRun = JobConfigs.load(out.resolve(RunDirectoryWriter.JOB_FILE));
    } else {
      throw new UserError(
          out + " has no checkpoint to resume from (expected " + Checkpoint.file(out) + ")");
    }
    if (job != null) {
      JobConfig given = JobConfigs.load(job);
      // The engine may change on a resume: checkpoints are the same whichever engine wrote them.
      if (!given.withEpochs(fromRun.epochs()).withEngine(fromRun.engine()).equals(fromRun)) {
        throw new UserError(
            job
                + " differs from the job of the run in "
                + out
                + "; resume without --job, or start a new run");
      }
    }
    int target = epochs != null ? epochs : fromRun.epochs();
    if (fromCheckpoint && done >= target) {
      System.out.println(
          out
              + ": already trained "
              + done
              + " epochs; pass --epochs M > "
              + done
              + " to continue");
      return null;
    }
    JobConfig config = fromRun.withEpochs(target);
    return new Run(
        engine == null ? config : config.withEngine(engine(engine)), out, null, fromCheckpoint);
  }

  /** {@code --engine}'s value, or a UserError naming the three. */
  static JobConfig.Engine engine(String name) {
    try {
      return JobConfig.Engine.of(name);
    } catch (dev.latentstream.config.ConfigException e) {
      throw new UserError("--engine must be libtorch, native or auto, got \"" + name + "\"");
    }
  }
}
