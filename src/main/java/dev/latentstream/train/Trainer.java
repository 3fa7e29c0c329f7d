package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.LiveView;
import dev.latentstream.model.Iwae;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.wire.SettingChange;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The training loop: data, model, loss, train, test, repeat, reporting through one {@link
 * TrainingListener}. It imports nothing from Vert.x; the server and the headless CLI are two
 * listeners on this same loop. {@link #run} reads like PyTorch's {@code vae/main.py}: set up
 * ({@link RunParts}), then per epoch {@link #train} and {@link #test} (the test set through {@link
 * Monitor}, the checkpoints through {@link Checkpointer}).
 *
 * <p>Threads and ownership: {@link #run()} is called on a dedicated thread, which builds and owns
 * every libtorch object (model, optimisers, data tensors) and frees them before returning. Each
 * step runs in its own {@code PointerScope}. The control methods ({@link #pause}, {@link #resume},
 * {@link #stop}, {@link #set}, {@link #submit}) are thread-safe: they post to the trainer's {@link
 * Mailbox}, which the owner thread empties between steps.
 */
public final class Trainer {

  static {
    dev.latentstream.model.Libtorch.load();
  }

  private final JobConfig job;
  private final Dataset data;
  private final CheckpointStore checkpoints;

  /** Cores for a job that does not set {@code threads}. */
  private volatile int cores = Math.max(1, Runtime.getRuntime().availableProcessors());

  private final FrameRenderer renderer;
  private final TrainingListener listener;
  private final boolean resume;

  private final AtomicBoolean started = new AtomicBoolean();
  private final LiveSettings settings;
  private final LiveView live;
  private final Mailbox mailbox;
  private volatile boolean headless;

  // Owned by the trainer thread.
  private RunParts parts;
  private Monitor monitor;
  private Checkpointer checkpointer;
  private EpochLoop loop;

  /** The epoch the run started from (0 unless resumed), and when, for seconds per epoch. */
  private int firstEpoch;

  private long startedAt;

  /**
   * @param checkpoints where epoch-end checkpoints go and, with {@code resume}, where the run
   *     continues from (the run directory's {@code rundir.Checkpoint})
   */
  public Trainer(
      JobConfig job,
      Dataset data,
      CheckpointStore checkpoints,
      FrameRenderer renderer,
      TrainingListener listener,
      boolean resume) {
    this.job = job;
    this.data = data;
    this.checkpoints = checkpoints;
    this.renderer = renderer;
    this.listener = listener;
    this.resume = resume;
    this.settings = new LiveSettings(job);
    this.live = new LiveView(data);
    this.mailbox = new Mailbox(live);
  }

  public JobConfig job() {
    return job;
  }

  /**
   * The cores this run may use when its job does not say ({@code threads}); every core unless set.
   * A server that also serves viewers leaves them one. Call before {@link #run}.
   */
  public void setCores(int cores) {
    if (cores < 1) {
      throw new IllegalArgumentException("a run needs at least one core, got " + cores);
    }
    this.cores = cores;
  }

  /** Pauses before the next step; interactive requests are still served while paused. */
  public void pause() {
    mailbox.pause();
  }

  public void resume() {
    mailbox.resume();
  }

  /**
   * Stops after the current step and checkpoints the run there (with its place in the epoch), so a
   * resumed run continues at the next step; the run ends with {@link RunSummary.Status#STOPPED}. A
   * user's stop and a server shutdown are the same request: either may be followed by a resume.
   */
  public void stop() {
    mailbox.stop();
  }

  public boolean isPaused() {
    return mailbox.isPaused();
  }

  /**
   * What a headless run needs: frames and latent diagnostics only at epoch ends (what it writes),
   * instead of every {@code frameEverySteps} / {@code diagnosticsEverySteps} steps, and no frames
   * before the first step. Unlike {@link #set}, this is not recorded as a live change.
   */
  public void framesAtEpochEndsOnly() {
    headless = true;
    settings.apply("frameEverySteps", 0);
    settings.diagnosticsAtEpochEndsOnly();
  }

  /**
   * Changes a live setting ({@link dev.latentstream.config.JobConfigs#LIVE_KEYS}) before the next
   * step.
   *
   * @throws IllegalArgumentException naming the key when it is unknown, does not apply to this
   *     model or the value is out of range
   */
  public void set(String key, double value) {
    settings.validate(key, value);
    mailbox.post(new SettingChange(-1, -1, key, value));
  }

  /**
   * Rations interactive requests ({@link #submit}): at most {@code maxQueued} waiting, and at most
   * {@code msPerSecond} of the trainer thread's time per second for all of them together. Defaults:
   * 32 and 100 ms. Callable from any thread, at any time.
   *
   * @throws IllegalArgumentException when {@code maxQueued} is not from 1 to 10000 or {@code
   *     msPerSecond} not from 1 to 1000
   */
  public void setInteractiveBudget(int maxQueued, int msPerSecond) {
    mailbox.setBudget(maxQueued, msPerSecond);
  }

  /**
   * Runs {@code request} against the live model on the trainer thread, between steps (also while
   * paused). The future fails with a {@link BusyException} at once when the interactive budget is
   * spent or its queue full (see {@link #setInteractiveBudget}), and otherwise when the run has
   * ended or the request throws.
   */
  public <T> CompletableFuture<T> submit(Function<LiveModel, T> request) {
    return mailbox.submit(request);
  }

  /**
   * Trains to the end, a stop request or a failure. Call once, on the thread that is to own the
   * tensors.
   */
  public RunSummary run() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("a Trainer runs once");
    }
    startedAt = System.nanoTime();
    RunSummary summary = null;
    try {
      int batches = (data.train().count() + job.batchSize() - 1) / job.batchSize();
      listener.onStart(setUp(batches));
      monitor.tick(
          !headless, !headless && settings.diagnosticsEverySteps() > 0, loop.step(), loop.epoch());
      while (loop.epoch() < job.epochs() && summary == null) {
        if (!loop.nextEpoch(batches)) {
          summary = summary(RunSummary.Status.STOPPED, null);
        }
      }
      if (summary == null) {
        summary = summary(RunSummary.Status.COMPLETED, null);
        if (Iwae.applies(job) && job.iwaeSamples() > 0) {
          summary = summary.withIwae(monitor.iwae(job.iwaeSamples()));
        }
      }
    } catch (RuntimeException e) {
      summary = summary(RunSummary.Status.FAILED, String.valueOf(e.getMessage()));
      if (e instanceof TrainingDiverged) {
        summary =
            summary(
                RunSummary.Status.FAILED,
                e.getMessage()
                    + " at step "
                    + summary.steps()
                    + " (epoch "
                    + summary.epochs()
                    + "); the last good checkpoint is kept");
      }
    } finally {
      mailbox.close();
      if (parts != null) {
        parts.close();
      }
    }
    try {
      listener.onFinished(summary);
    } catch (RuntimeException e) {
      // The run's own files could not be finished (a full disk): it failed, though the checkpoint
      // stands.
      if (summary.status() != RunSummary.Status.FAILED) {
        summary = summary.failed(String.valueOf(e.getMessage()));
      }
    }
    return summary;
  }

  /** Data on the device, the model, its optimisers and, when resuming, the checkpoint. */
  private RunStart setUp(int batches) {
    parts = new RunParts(job, data, cores, renderer);
    live.attach(parts.model, parts.device);
    monitor = new Monitor(job, parts, live, settings, listener);
    checkpointer =
        new Checkpointer(job, checkpoints, listener, data.train().rows(), data.train().cols());
    loop = new EpochLoop(job, data, parts, monitor, checkpointer, settings, mailbox, listener);
    String resumeNote = null;
    if (resume) {
      CheckpointStore.Progress p = checkpointer.resume(parts);
      loop.resumeFrom(p);
      resumeNote = p.note();
    }
    firstEpoch = loop.epoch();
    checkpointer.startClock();
    return new RunStart(
        job,
        Devices.name(parts.device),
        parts.rule.engine(),
        loop.step(),
        loop.epoch(),
        batches,
        data.train().count(),
        data.test().count(),
        data.classNames(),
        lossTerms(),
        resumeNote);
  }

  private List<String> lossTerms() {
    return switch (job.model()) {
      case aae -> List.of("recon", "disc", "gen", "loss");
      case vae, conv_vae -> List.of("recon", "kl", "loss");
      default -> List.of("recon", "loss");
    };
  }

  /** A summary of the run so far: its epochs, steps, test loss and seconds per epoch. */
  private RunSummary summary(RunSummary.Status status, String error) {
    int epoch = loop == null ? firstEpoch : loop.epoch();
    long step = loop == null ? 0 : loop.step();
    int done = epoch - firstEpoch;
    double secondsPerEpoch = done <= 0 ? Double.NaN : (System.nanoTime() - startedAt) / 1e9 / done;
    double testLoss = monitor == null ? Double.NaN : monitor.testLoss();
    return new RunSummary(status, epoch, step, testLoss, secondsPerEpoch, error);
  }
}
