package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.randperm;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Split;
import dev.latentstream.diagnostics.Alarms;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.LatentStats;
import dev.latentstream.explore.LatentGeometry;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.LiveView;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.ImageBatches;
import dev.latentstream.model.Iwae;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.SettingChange;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The training loop: data, model, loss, train, test, repeat, reporting through one {@link
 * TrainingListener}. It imports nothing from Vert.x; the server and the headless CLI are two
 * listeners on this same loop. {@link #run} reads like PyTorch's {@code vae/main.py}: set up, then
 * per epoch {@link #train} and {@link #test}.
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

  static final int SCAN_COUNT = LatentGeometry.SCAN_COUNT;
  static final int EVAL_BATCH = 500;

  /** Decoder rows per chunk of the IWAE bound: about 50 MB of logits for 28×28 images. */
  static final int IWAE_ROWS = 16_384;

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
  private Device device;
  private Autoencoder model;
  private StepRule rule;
  private ImageBatches trainBatches;
  private Tensor testImages;
  private Tensor reconClean;
  private Tensor reconNoise;
  private int[] testLabels;
  private FrameMaker frames;
  private LatentGeometry geometry;
  private Alarms alarms;
  private long step;

  /** Completed epochs. */
  private int epoch;

  private double lastTestLoss = Double.NaN;
  private String resumeNote;

  /**
   * Where in epoch {@code epoch + 1} a resumed run picks up; null at an epoch boundary. Used once.
   */
  private CheckpointStore.InEpoch resumeAt;

  /** The step of the newest checkpoint, saved or loaded: a stop there has nothing new to keep. */
  private long checkpointedStep;

  /**
   * When the newest checkpoint was taken (or the run set up): the clock for {@code
   * checkpointEverySeconds}.
   */
  private long checkpointedAt;

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
   * Changes a live setting ({@link LiveSettings#KEYS}) before the next step.
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
    long t0 = System.nanoTime();
    int firstEpoch = 0;
    RunSummary summary;
    try {
      firstEpoch = setUp();
      checkpointedAt = System.nanoTime();
      int batches = (data.train().count() + job.batchSize() - 1) / job.batchSize();
      listener.onStart(
          new RunStart(
              job,
              Devices.name(device),
              rule.engine(),
              step,
              epoch,
              batches,
              data.train().count(),
              data.test().count(),
              data.classNames(),
              lossTerms(),
              resumeNote));
      tick(!headless, !headless && settings.diagnosticsEverySteps() > 0);
      summary = null;
      while (epoch < job.epochs() && summary == null) {
        // A resumed epoch counts the seconds it had already trained before the stop.
        long epochStart =
            System.nanoTime() - (resumeAt == null ? 0 : (long) (resumeAt.seconds() * 1e9));
        Map<String, Double> trainTerms = train(epoch + 1, batches);
        if (trainTerms != null) {
          test(epoch + 1, trainTerms, epochStart);
        } else {
          summary =
              new RunSummary(
                  RunSummary.Status.STOPPED,
                  epoch,
                  step,
                  lastTestLoss,
                  secondsPerEpoch(t0, firstEpoch),
                  null);
        }
      }
      if (summary == null) {
        summary =
            new RunSummary(
                RunSummary.Status.COMPLETED,
                epoch,
                step,
                lastTestLoss,
                secondsPerEpoch(t0, firstEpoch),
                null);
        if (Iwae.applies(job) && job.iwaeSamples() > 0) {
          summary = summary.withIwae(iwae(job.iwaeSamples()));
        }
      }
    } catch (RuntimeException e) {
      String message =
          e instanceof TrainingDiverged
              ? e.getMessage()
                  + " at step "
                  + step
                  + " (epoch "
                  + epoch
                  + "); the last good checkpoint is kept"
              : String.valueOf(e.getMessage());
      summary =
          new RunSummary(
              RunSummary.Status.FAILED,
              epoch,
              step,
              lastTestLoss,
              secondsPerEpoch(t0, firstEpoch),
              message);
    } finally {
      mailbox.close();
      tearDown();
    }
    try {
      listener.onFinished(summary);
    } catch (RuntimeException e) {
      // The run's own files could not be finished (a full disk): it failed, though the checkpoint
      // stands.
      if (summary.status() != RunSummary.Status.FAILED) {
        summary =
            new RunSummary(
                RunSummary.Status.FAILED,
                summary.epochs(),
                summary.steps(),
                summary.testLoss(),
                summary.secondsPerEpoch(),
                String.valueOf(e.getMessage()),
                summary.iwae());
      }
    }
    return summary;
  }

  /**
   * Data on the device, the model, its optimisers and, when resuming, the checkpoint; returns the
   * first epoch.
   */
  private int setUp() {
    Threads.Split threads = Threads.configure(job, cores);
    device = Devices.resolve(job.device());
    Split train = data.train();
    Split test = data.test();
    if (train.count() == 0 || test.count() == 0) {
      throw new IllegalArgumentException("dataset '" + data.name() + "' has an empty split");
    }
    manual_seed(job.seed());
    model = Models.create(job, train.rows(), train.cols());
    model.to(device, false);
    live.attach(model, device);
    rule = StepRule.forModel(model, threads.blas());
    float[] priorNoise = TensorData.floats(randn(FrameMaker.SAMPLE_COUNT, job.latent()));
    trainBatches = new ImageBatches(train, job.batchSize(), device);
    testImages = images(test, 0, test.count());
    int shown = Math.min(FrameMaker.RECON_COUNT, test.count());
    reconClean = TensorData.cpuContiguousFloat(images(test, 0, shown));
    reconNoise = model instanceof MlpAutoencoder ae ? ae.unitNoise(reconClean) : null;
    testLabels = new int[test.count()];
    for (int i = 0; i < testLabels.length; i++) {
      testLabels[i] = test.label(i);
    }
    int classes =
        Math.max(data.classNames().size(), java.util.Arrays.stream(testLabels).max().orElse(0) + 1);
    frames =
        new FrameMaker(
            renderer, device, data.classNames(), classes, train.rows(), train.cols(), priorNoise);
    alarms = new Alarms(job.latent(), job.model().variational(), job.beta());
    if (resume) {
      CheckpointStore.Progress p = checkpoints.load(model, rule.optimizers());
      epoch = p.epoch();
      step = p.step();
      resumeNote = p.note();
      resumeAt = p.inEpoch();
      checkpointedStep = step;
      if (resumeAt != null
          && resumeAt.generator() != null
          && !GeneratorState.fits(resumeAt.generator())) {
        // Another libtorch wrote it: the run can still go on, only not with the numbers it would
        // have drawn.
        resumeAt =
            new CheckpointStore.InEpoch(
                resumeAt.batches(), resumeAt.sums(), resumeAt.seconds(), null);
        resumeNote =
            (resumeNote == null ? "" : resumeNote + "; ")
                + "the checkpoint's random-generator state does "
                + "not fit this libtorch, so the rest of epoch "
                + (epoch + 1)
                + " draws other random numbers";
      }
    }
    return epoch;
  }

  /**
   * One epoch of steps (train() in vae/main.py): returns the mean training terms per image, or null
   * when a stop request ended the epoch early, after checkpointing the run at its place in the
   * epoch. A run resumed from such a checkpoint continues the epoch at the next batch of the same
   * permutation.
   */
  private Map<String, Double> train(int e, int batches) {
    CheckpointStore.InEpoch at = resumeAt;
    resumeAt = null;
    long start = System.nanoTime() - (at == null ? 0 : (long) (at.seconds() * 1e9));
    int n = data.train().count();
    int batchSize = job.batchSize();
    Map<String, Double> sums = new LinkedHashMap<>();
    int first = 0;
    if (at != null) {
      sums.putAll(at.sums());
      first = Math.min(at.batches(), batches);
    }
    try (PointerScope epochScope = new PointerScope()) {
      // Each epoch draws from its own seed, so a run resumed at an epoch boundary replays exactly,
      // and one
      // resumed inside an epoch rebuilds the same order of images.
      manual_seed(epochSeed(job.seed(), e));
      long[] order = TensorData.longs(randperm(n));
      if (at != null && at.generator() != null) {
        // The draws the epoch's finished steps made: the rest of the epoch gets the numbers it
        // would have got.
        GeneratorState.restore(at.generator());
      }
      model.train(true);
      for (int b = first; b < batches; b++) {
        if (!mailbox.service(this::applySetting)) {
          checkpointInEpoch(e, b, sums, (System.nanoTime() - start) / 1e9);
          return null;
        }
        int from = b * batchSize;
        int size = Math.min(batchSize, n - from);
        Map<String, Double> terms;
        try (PointerScope stepScope = new PointerScope()) {
          Tensor x = trainBatches.gather(order, from, size);
          terms = rule.step(x, settings.beta(step), settings.freeBits());
        }
        terms.forEach((k, v) -> sums.merge(k, v * size, Double::sum));
        step++;
        epoch = e - 1;
        double elapsed = (System.nanoTime() - start) / 1e9;
        listener.onStep(
            new StepMetrics(
                step, e, b + 1, batches, terms, (from + size) / Math.max(elapsed, 1e-9), elapsed));
        if (b + 1 < batches) {
          int frameEvery = settings.frameEverySteps();
          int diagnosticsEvery = settings.diagnosticsEverySteps();
          tick(
              frameEvery > 0 && step % frameEvery == 0,
              diagnosticsEvery > 0 && step % diagnosticsEvery == 0);
          // A node that dies loses at most this much training: another resumes from here (the
          // epoch's end
          // checkpoints anyway).
          if (job.checkpointEverySeconds() > 0
              && System.nanoTime() - checkpointedAt
                  >= job.checkpointEverySeconds() * 1_000_000_000L) {
            checkpointInEpoch(e, b + 1, sums, (System.nanoTime() - start) / 1e9);
          }
        }
      }
    }
    sums.replaceAll((k, v) -> v / n);
    return sums;
  }

  /**
   * The end of an epoch (test() in vae/main.py): the test loss and the latent diagnostics over the
   * test set, frames, alarms, the epoch's result, then the checkpoint.
   */
  private void test(int e, Map<String, Double> trainTerms, long epochStart) {
    long testStart = System.nanoTime();
    Diagnostics diagnostics = evaluate(e);
    double testSeconds = (System.nanoTime() - testStart) / 1e9;
    epoch = e;
    emitFrames();
    listener.onDiagnostics(diagnostics);
    alarms.epochEnd(step, e, diagnostics, lastTestLoss).forEach(listener::onWarning);
    // The epoch's files before its checkpoint: a run that fails between the two (a full disk)
    // resumes from the
    // checkpoint before, and rewrites them.
    listener.onEpoch(
        new EpochResult(
            e,
            step,
            trainTerms,
            lastTestLoss,
            (System.nanoTime() - epochStart) / 1e9,
            testSeconds));
    listener.onCheckpointing(step);
    checkpoints.save(
        model,
        rule.optimizers(),
        new CheckpointStore.Progress(job, epoch, step, data.train().rows(), data.train().cols()));
    checkpointedStep = step;
    checkpointedAt = System.nanoTime();
  }

  /**
   * A stop (or {@code checkpointEverySeconds}) between two steps of epoch {@code e}, with {@code
   * done} of its batches trained: the run is checkpointed at this step, with what it needs to
   * finish the epoch as if it had not stopped.
   */
  private void checkpointInEpoch(int e, int done, Map<String, Double> sums, double seconds) {
    if (step == checkpointedStep || done == 0) {
      return;
    }
    listener.onCheckpointing(step);
    checkpoints.save(
        model,
        rule.optimizers(),
        new CheckpointStore.Progress(
            job,
            e - 1,
            step,
            data.train().rows(),
            data.train().cols(),
            new CheckpointStore.InEpoch(done, sums, seconds, GeneratorState.save())));
    checkpointedStep = step;
    checkpointedAt = System.nanoTime();
  }

  static long epochSeed(long seed, int epoch) {
    return seed * 1_000_003L + epoch;
  }

  /**
   * The test loss per image ({@link #lastTestLoss}), defined as the training loss, over the whole
   * test set; its codes become the latent geometry for the epoch-end frames and its posteriors the
   * returned diagnostics.
   */
  private Diagnostics evaluate(int e) {
    int n = data.test().count();
    double[] sum = {0};
    Scan scan =
        scanTest(
            n,
            x -> {
              long size = x.size(0);
              Optional<StepRule.TestBatch> byRule =
                  rule.test(x, settings.beta(step), settings.freeBits());
              if (byRule.isPresent()) {
                sum[0] += StepRule.checked("test loss", byRule.get().loss()) * size;
                return new Coded(byRule.get().means(), byRule.get().logVars());
              }
              Tensor input = model instanceof MlpAutoencoder ae ? ae.corrupt(x) : x;
              Losses losses = model.losses(input, x, settings.beta(step), settings.freeBits());
              sum[0] += StepRule.checked("test loss", losses.total()) * size;
              Tensor c = losses.codes() != null ? losses.codes() : model.encode(input).mean();
              return new Coded(
                  TensorData.floats(c),
                  losses.logVar() == null ? null : TensorData.floats(losses.logVar()));
            });
    geometry = new LatentGeometry(scan.codes(), testLabels, n, job.latent(), frames.classes());
    live.update(geometry);
    lastTestLoss = sum[0] / n;
    return scan.stats().result(step, e);
  }

  /** One test batch's codes and, for variational models, log-variances, image after image. */
  private record Coded(float[] codes, float[] logVars) {}

  /** The codes of a scan over test images, image after image, and their statistics. */
  private record Scan(float[] codes, LatentStats stats) {}

  /**
   * The one loop over test images that {@link #evaluate} and {@link #tick} share: the first {@code
   * count}, {@link #EVAL_BATCH} at a time, in eval mode without gradients, each batch in a
   * PointerScope of its own and encoded by {@code encoder}.
   */
  private Scan scanTest(int count, java.util.function.Function<Tensor, Coded> encoder) {
    int d = job.latent();
    float[] codes = new float[count * d];
    LatentStats stats = new LatentStats(d, job.model().variational() ? Losses::klTerm : null);
    try (NoGradGuard noGrad = new NoGradGuard();
        PointerScope scope = new PointerScope()) {
      model.eval();
      for (int from = 0; from < count; from += EVAL_BATCH) {
        int size = Math.min(EVAL_BATCH, count - from);
        try (PointerScope batchScope = new PointerScope()) {
          Coded c = encoder.apply(testImages.narrow(0, from, size));
          System.arraycopy(c.codes(), 0, codes, from * d, c.codes().length);
          stats.add(c.codes(), c.logVars(), size);
        }
      }
    } finally {
      model.train(true);
    }
    return new Scan(codes, stats);
  }

  /**
   * Between steps: scans the first {@link #SCAN_COUNT} test images for the latent plane, then
   * renders frames and/or reports diagnostics from them.
   */
  private void tick(boolean withFrames, boolean withDiagnostics) {
    if (!withFrames && !withDiagnostics && geometry != null) {
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      int count = Math.min(SCAN_COUNT, data.test().count());
      int d = job.latent();
      Scan scan =
          scanTest(
              count,
              x -> {
                Autoencoder.Encoded enc = model.encode(x);
                return new Coded(
                    TensorData.floats(enc.mean()),
                    enc.logVar() == null ? null : TensorData.floats(enc.logVar()));
              });
      LatentStats stats = scan.stats();
      float[] codes = scan.codes();
      geometry =
          new LatentGeometry(
              codes, java.util.Arrays.copyOf(testLabels, count), count, d, frames.classes());
      live.update(geometry);
      if (withDiagnostics) {
        Diagnostics diagnostics = stats.result(step, epoch);
        alarms.tick(diagnostics);
        listener.onDiagnostics(diagnostics);
      }
      if (withFrames) {
        emitFrames();
      }
    }
  }

  private void emitFrames() {
    List<Frame> out;
    try (NoGradGuard noGrad = new NoGradGuard();
        PointerScope scope = new PointerScope()) {
      model.eval();
      Tensor shown = reconClean;
      if (model instanceof MlpAutoencoder ae && reconNoise != null) {
        shown = TensorData.cpuContiguousFloat(ae.corrupt(reconClean, reconNoise));
      }
      out = frames.render(model, shown, shown, geometry, step, epoch);
    } finally {
      model.train(true);
    }
    out.forEach(listener::onFrame);
  }

  /** The importance-weighted bound on the test set after the final epoch, in nats per image. */
  private double iwae(int k) {
    manual_seed(epochSeed(job.seed(), job.epochs() + 1));
    try (PointerScope scope = new PointerScope()) {
      model.eval();
      return Iwae.bound(Iwae.of(model), testImages, k, IWAE_ROWS, null);
    } finally {
      model.train(true);
    }
  }

  private void applySetting(SettingChange c) {
    settings.apply(c.key(), c.value());
    if (c.key().equals("lr")) {
      for (Optim o : rule.tunable()) {
        o.setLearningRate(c.value());
      }
    } else if (c.key().equals("noise") && model instanceof MlpAutoencoder ae) {
      ae.setNoiseLevel(c.value());
    }
    listener.onSettingChanged(new SettingChange(step, epoch, c.key(), c.value()));
  }

  private void tearDown() {
    if (trainBatches != null) {
      trainBatches.close();
    }
    for (Tensor t : new Tensor[] {testImages, reconClean, reconNoise}) {
      if (t != null) {
        t.close();
      }
    }
    if (rule != null) {
      rule.close();
      rule.optimizers().forEach(Optim::close);
    }
    if (model != null) {
      model.close();
    }
  }

  private List<String> lossTerms() {
    return switch (job.model()) {
      case aae -> List.of("recon", "disc", "gen", "loss");
      case vae, conv_vae -> List.of("recon", "kl", "loss");
      default -> List.of("recon", "loss");
    };
  }

  /** Images {@code from .. from + count} of a split as floats in [0, 1] on the device. */
  private Tensor images(Split split, int from, int count) {
    return TensorData.unitImages(split, from, count, device);
  }

  private double secondsPerEpoch(long t0, int firstEpoch) {
    int done = epoch - firstEpoch;
    return done <= 0 ? Double.NaN : (System.nanoTime() - t0) / 1e9 / done;
  }
}
