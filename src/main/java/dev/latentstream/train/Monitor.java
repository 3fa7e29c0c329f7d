package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.explore.LatentGeometry;
import dev.latentstream.explore.LiveView;
import dev.latentstream.model.Iwae;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.wire.Frame;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * What a run shows of itself, from its test set ({@code test()} in {@code vae/main.py} and more):
 * the test loss and latent diagnostics at an epoch's end, the latent plane and frames between
 * steps, and the importance-weighted bound after the last epoch. Every pass over the test images
 * goes through {@link TestScan}; the latest latent plane goes to the {@link LiveView} that
 * interactive requests read.
 *
 * <p>Owner: the trainer thread, which calls every method between steps.
 */
final class Monitor {

  static final int SCAN_COUNT = LatentGeometry.SCAN_COUNT;

  /** Decoder rows per chunk of the IWAE bound: about 50 MB of logits for 28×28 images. */
  static final int IWAE_ROWS = 16_384;

  private final JobConfig job;
  private final RunParts parts;
  private final LiveView live;
  private final LiveSettings settings;
  private final TrainingListener listener;

  private LatentGeometry geometry;
  private double testLoss = Double.NaN;

  Monitor(
      JobConfig job,
      RunParts parts,
      LiveView live,
      LiveSettings settings,
      TrainingListener listener) {
    this.job = job;
    this.parts = parts;
    this.live = live;
    this.settings = settings;
    this.listener = listener;
  }

  /** The test loss per image of the latest {@link #evaluate}; NaN before the first. */
  double testLoss() {
    return testLoss;
  }

  /**
   * The test loss per image ({@link #testLoss}), defined as the training loss, over the whole test
   * set at {@code step}; its codes become the latent plane and its posteriors the returned
   * diagnostics of epoch {@code epoch}.
   */
  Diagnostics evaluate(long step, int epoch) {
    int n = parts.testLabels.length;
    double beta = settings.beta(step);
    double freeBits = settings.freeBits();
    double[] sum = {0};
    TestScan.Scan scan =
        TestScan.run(
            parts.model,
            parts.testImages,
            n,
            x -> {
              long size = x.size(0);
              Optional<StepRule.TestBatch> byRule = parts.rule.test(x, beta, freeBits);
              if (byRule.isPresent()) {
                sum[0] += StepRule.checked("test loss", byRule.get().loss()) * size;
                return new TestScan.Coded(byRule.get().means(), byRule.get().logVars());
              }
              Tensor input = parts.model instanceof MlpAutoencoder ae ? ae.corrupt(x) : x;
              Losses losses = parts.model.losses(input, x, beta, freeBits);
              sum[0] += StepRule.checked("test loss", losses.total()) * size;
              Tensor c = losses.codes() != null ? losses.codes() : parts.model.encode(input).mean();
              return new TestScan.Coded(
                  TensorData.floats(c),
                  losses.logVar() == null ? null : TensorData.floats(losses.logVar()));
            });
    geometry =
        new LatentGeometry(scan.codes(), parts.testLabels, n, job.latent(), parts.frames.classes());
    live.update(geometry);
    testLoss = sum[0] / n;
    return scan.stats().result(step, epoch);
  }

  /**
   * Between steps: scans the first {@link #SCAN_COUNT} test images for the latent plane, then
   * renders frames and/or reports diagnostics from them. Nothing to do when neither is asked for
   * and a plane exists.
   */
  void tick(boolean withFrames, boolean withDiagnostics, long step, int epoch) {
    if (!withFrames && !withDiagnostics && geometry != null) {
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      int count = Math.min(SCAN_COUNT, parts.testLabels.length);
      TestScan.Scan scan =
          TestScan.run(parts.model, parts.testImages, count, x -> TestScan.encode(parts.model, x));
      geometry =
          new LatentGeometry(
              scan.codes(),
              Arrays.copyOf(parts.testLabels, count),
              count,
              job.latent(),
              parts.frames.classes());
      live.update(geometry);
      if (withDiagnostics) {
        Diagnostics diagnostics = scan.stats().result(step, epoch);
        parts.alarms.tick(diagnostics);
        listener.onDiagnostics(diagnostics);
      }
      if (withFrames) {
        emitFrames(step, epoch);
      }
    }
  }

  /** Renders the frames of the latest latent plane and hands them to the listener. */
  void emitFrames(long step, int epoch) {
    List<Frame> out;
    boolean training = parts.model.is_training();
    try (NoGradGuard noGrad = new NoGradGuard();
        PointerScope scope = new PointerScope()) {
      parts.model.eval();
      Tensor shown = parts.reconClean;
      if (parts.model instanceof MlpAutoencoder ae && parts.reconNoise != null) {
        shown = TensorData.cpuContiguousFloat(ae.corrupt(parts.reconClean, parts.reconNoise));
      }
      out = parts.frames.render(parts.model, shown, shown, geometry, step, epoch);
    } finally {
      parts.model.train(training);
    }
    out.forEach(listener::onFrame);
  }

  /** The importance-weighted bound on the test set after the final epoch, in nats per image. */
  double iwae(int k) {
    parts.seed(EpochLoop.epochSeed(job.seed(), job.epochs() + 1));
    boolean training = parts.model.is_training();
    try (PointerScope scope = new PointerScope()) {
      parts.model.eval();
      return Iwae.bound(Iwae.of(parts.model), parts.testImages, k, IWAE_ROWS, null);
    } finally {
      parts.model.train(training);
    }
  }
}
