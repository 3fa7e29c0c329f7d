package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.cuda_manual_seed_all;
import static org.bytedeco.pytorch.global.torch.randn;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Split;
import dev.latentstream.diagnostics.Alarms;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.ImageBatches;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.render.FrameRenderer;
import java.util.Arrays;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * What a run sets up before its first step (the top of {@code vae/main.py}: data, model,
 * optimiser), built in that order on the trainer thread: its share of the cores, the device, the
 * model and its step rule with the optimisers, the training batches, the test images and labels,
 * the fixed images the frames reconstruct, the frame maker and the alarms; and the job's own random
 * generator.
 *
 * <p>Every random number of a run comes from that generator, seeded from the job's seed: the
 * initial weights (through {@link Models#seeded}), each epoch's order of images, the noise of each
 * step, the frames' fixed inputs and the IWAE's samples. So runs that train side by side in one
 * process draw what each would draw alone. On CUDA the noise drawn on the device comes from
 * libtorch's CUDA generator instead, one per device and shared by the jobs on it (seeded as before,
 * by {@link #seed}).
 *
 * <p>Owner: the trainer thread builds it and {@link #close}s it when the run ends. A constructor
 * that fails half way frees what it had built before it throws.
 */
final class RunParts implements AutoCloseable {

  /** The job's claim on the cores, held until the run ends. */
  final Threads.Share threads;

  final Device device;

  /** The job's CPU generator; the model draws from it too when it trains on the CPU. */
  final Generator generator;

  final Autoencoder model;
  final StepRule rule;
  final ImageBatches trainBatches;

  /** Every test image, as floats in [0, 1] on the device. */
  final Tensor testImages;

  final int[] testLabels;

  /** The test images the frames reconstruct (CPU, contiguous), and their fixed corruption. */
  final Tensor reconClean;

  final Tensor reconNoise;
  final FrameMaker frames;
  final Alarms alarms;

  /**
   * @param cores the cores the run may use when its job does not set {@code threads}
   */
  RunParts(JobConfig job, Dataset data, int cores, FrameRenderer renderer) {
    try {
      threads = Threads.claim(job, cores);
      device = Devices.resolve(job.device());
      Split train = data.train();
      Split test = data.test();
      if (train.count() == 0 || test.count() == 0) {
        throw new IllegalArgumentException("dataset '" + data.name() + "' has an empty split");
      }
      Models.Seeded seeded = Models.seeded(job, train.rows(), train.cols());
      generator = seeded.generator();
      model = seeded.model();
      model.to(device, false);
      if (device.is_cpu()) {
        model.drawFrom(generator);
      }
      rule = StepRule.forModel(model, threads.split().blas());
      float[] priorNoise =
          TensorData.floats(randn(new long[] {FrameMaker.SAMPLE_COUNT, job.latent()}, draws()));
      trainBatches = new ImageBatches(train, job.batchSize(), device);
      testImages = TensorData.unitImages(test, 0, test.count(), device);
      int shown = Math.min(FrameMaker.RECON_COUNT, test.count());
      reconClean = TensorData.cpuContiguousFloat(TensorData.unitImages(test, 0, shown, device));
      reconNoise = model instanceof MlpAutoencoder ae ? ae.unitNoise(reconClean) : null;
      testLabels = new int[test.count()];
      for (int i = 0; i < testLabels.length; i++) {
        testLabels[i] = test.label(i);
      }
      int classes =
          Math.max(data.classNames().size(), Arrays.stream(testLabels).max().orElse(0) + 1);
      frames =
          new FrameMaker(
              renderer, device, data.classNames(), classes, train.rows(), train.cols(), priorNoise);
      alarms = new Alarms(job.latent(), job.model().variational(), job.beta());
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** The job's CPU generator as libtorch's random functions take it (in the caller's scope). */
  GeneratorOptional draws() {
    return new GeneratorOptional(generator);
  }

  /** Seeds the job's draws: its own generator and, on CUDA, the device's (process-wide there). */
  void seed(long seed) {
    generator.set_current_seed(seed);
    if (!device.is_cpu()) {
      cuda_manual_seed_all(seed);
    }
  }

  /** Frees what was built; fields still null (a constructor that failed) are skipped. */
  @Override
  public void close() {
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
    if (generator != null) {
      generator.close();
    }
    if (threads != null) {
      threads.close();
    }
  }
}
