package dev.latentstream.explore;

import static org.bytedeco.pytorch.global.torch.createCPUGenerator;
import static org.bytedeco.pytorch.global.torch.randn;

import dev.latentstream.data.Dataset;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Png;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Samples from a trained model: decodes draws from the prior, or, for autoencoders without a prior,
 * from a Gaussian fitted to the test codes. Runs on the calling thread, which owns {@code model}
 * (loaded from a checkpoint by {@code rundir.Checkpoint.loadModel}) and closes it afterwards.
 */
public final class Sampler {

  static {
    dev.latentstream.model.Libtorch.load();
  }

  private Sampler() {}

  /**
   * @param data needed only for models without a prior (ae, dae); may be null otherwise
   */
  public static Png sample(
      Autoencoder model, int n, long seed, Dataset data, FrameRenderer renderer) {
    if (n < 1 || n > 10_000) {
      throw new IllegalArgumentException("--n must be from 1 to 10000, got " + n);
    }
    int latent = model.latentDim();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      model.eval();
      // A generator of its own: the same numbers as manual_seed(seed), without touching the default
      // generator that other jobs' models are built from.
      float[] z =
          TensorData.floats(
              randn(new long[] {n, latent}, new GeneratorOptional(createCPUGenerator(seed))));
      if (!model.hasPrior()) {
        if (data == null) {
          throw new IllegalArgumentException(
              "sampling a "
                  + model.job().model().wireName()
                  + " needs its dataset, to fit the distribution of its codes");
        }
        int count = Math.min(LatentGeometry.SCAN_COUNT, data.test().count());
        float[] pixels =
            TensorData.unitFloats(data.test().pixels(), 0, count * data.test().imageSize());
        float[] codes =
            TensorData.floats(
                model.encode(TensorData.tensor(pixels, count, data.test().imageSize())).mean());
        LatentGeometry fitted = new LatentGeometry(codes, new int[count], count, latent, 1);
        for (int i = 0; i < z.length; i++) {
          z[i] = fitted.mean[i % latent] + fitted.std[i % latent] * z[i];
        }
      }
      Tensor images = TensorData.cpuContiguousFloat(model.decode(TensorData.tensor(z, n, latent)));
      int columns = (int) Math.ceil(Math.sqrt(n));
      return renderer.grid(TensorData.segment(images), n, model.height(), model.width(), columns);
    }
  }
}
