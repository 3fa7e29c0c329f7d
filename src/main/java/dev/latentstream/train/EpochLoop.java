package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.randperm;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.SettingChange;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The epochs of a run, each {@link #train} then {@link #test} as in {@code vae/main.py}, with the
 * step and epoch counters. Between two steps it empties the trainer's {@link Mailbox} (live
 * settings, interactive requests, pause and stop), renders frames and diagnostics when due ({@link
 * Monitor}) and checkpoints when due ({@link Checkpointer}).
 *
 * <p>Owner: the trainer thread; every step runs in a {@code PointerScope} of its own.
 */
final class EpochLoop {

  private final JobConfig job;
  private final Dataset data;
  private final RunParts parts;
  private final Monitor monitor;
  private final Checkpointer checkpointer;
  private final LiveSettings settings;
  private final Mailbox mailbox;
  private final TrainingListener listener;

  private long step;

  /** Completed epochs. */
  private int epoch;

  /**
   * Where in epoch {@code epoch + 1} a resumed run picks up; null at an epoch boundary. Used once.
   */
  private CheckpointStore.InEpoch resumeAt;

  EpochLoop(
      JobConfig job,
      Dataset data,
      RunParts parts,
      Monitor monitor,
      Checkpointer checkpointer,
      LiveSettings settings,
      Mailbox mailbox,
      TrainingListener listener) {
    this.job = job;
    this.data = data;
    this.parts = parts;
    this.monitor = monitor;
    this.checkpointer = checkpointer;
    this.settings = settings;
    this.mailbox = mailbox;
    this.listener = listener;
  }

  /** Continues from a checkpoint's place: its step, its epoch and where in the next epoch. */
  void resumeFrom(CheckpointStore.Progress p) {
    epoch = p.epoch();
    step = p.step();
    resumeAt = p.inEpoch();
  }

  long step() {
    return step;
  }

  /** Completed epochs. */
  int epoch() {
    return epoch;
  }

  /**
   * Trains and tests the next epoch of {@code batches} batches; false when a stop request ended it
   * early (the run is then checkpointed at its place in the epoch).
   */
  boolean nextEpoch(int batches) {
    CheckpointStore.InEpoch at = resumeAt;
    resumeAt = null;
    // A resumed epoch counts the seconds it had already trained before the stop.
    long start = System.nanoTime() - (at == null ? 0 : (long) (at.seconds() * 1e9));
    Map<String, Double> trainTerms = train(epoch + 1, batches, at, start);
    if (trainTerms == null) {
      return false;
    }
    test(epoch + 1, trainTerms, start);
    return true;
  }

  /**
   * One epoch of steps (train() in vae/main.py): returns the mean training terms per image, or null
   * when a stop request ended the epoch early, after checkpointing the run at its place in the
   * epoch. A run resumed from such a checkpoint continues the epoch at the next batch of the same
   * permutation.
   */
  private Map<String, Double> train(int e, int batches, CheckpointStore.InEpoch at, long start) {
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
      // and one resumed inside an epoch rebuilds the same order of images.
      parts.seed(epochSeed(job.seed(), e));
      long[] order = TensorData.longs(randperm(n, parts.draws()));
      if (at != null && at.generator() != null) {
        // The draws the epoch's finished steps made: the rest of the epoch gets the numbers it
        // would have got.
        GeneratorState.restore(parts.generator, at.generator());
      }
      parts.model.train(true);
      for (int b = first; b < batches; b++) {
        if (!mailbox.service(this::applySetting)) {
          checkpointer.inEpoch(parts, e, b, step, sums, (System.nanoTime() - start) / 1e9);
          return null;
        }
        int from = b * batchSize;
        int size = Math.min(batchSize, n - from);
        Map<String, Double> terms;
        try (PointerScope stepScope = new PointerScope()) {
          Tensor x = parts.trainBatches.gather(order, from, size);
          terms = parts.rule.step(x, settings.beta(step), settings.freeBits());
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
          monitor.tick(
              frameEvery > 0 && step % frameEvery == 0,
              diagnosticsEvery > 0 && step % diagnosticsEvery == 0,
              step,
              epoch);
          // A node that dies loses at most this much training: another resumes from here (the
          // epoch's end checkpoints anyway).
          if (checkpointer.due()) {
            checkpointer.inEpoch(parts, e, b + 1, step, sums, (System.nanoTime() - start) / 1e9);
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
    Diagnostics diagnostics = monitor.evaluate(step, e);
    double testSeconds = (System.nanoTime() - testStart) / 1e9;
    epoch = e;
    monitor.emitFrames(step, epoch);
    listener.onDiagnostics(diagnostics);
    parts.alarms.epochEnd(step, e, diagnostics, monitor.testLoss()).forEach(listener::onWarning);
    // The epoch's files before its checkpoint: a run that fails between the two (a full disk)
    // resumes from the checkpoint before, and rewrites them.
    listener.onEpoch(
        new EpochResult(
            e,
            step,
            trainTerms,
            monitor.testLoss(),
            (System.nanoTime() - epochStart) / 1e9,
            testSeconds));
    checkpointer.atEpochEnd(parts, epoch, step);
  }

  static long epochSeed(long seed, int epoch) {
    return seed * 1_000_003L + epoch;
  }

  private void applySetting(SettingChange c) {
    settings.apply(c.key(), c.value());
    if (c.key().equals("lr")) {
      for (Optim o : parts.rule.tunable()) {
        o.setLearningRate(c.value());
      }
    } else if (c.key().equals("noise") && parts.model instanceof MlpAutoencoder ae) {
      ae.setNoiseLevel(c.value());
    }
    listener.onSettingChanged(new SettingChange(step, epoch, c.key(), c.value()));
  }
}
