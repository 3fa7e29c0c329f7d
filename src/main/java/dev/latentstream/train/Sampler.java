package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Png;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Samples from a finished (or checkpointed) run: decodes draws from the prior, or, for autoencoders
 * without a prior, from a Gaussian fitted to the test codes. Runs on the calling thread, which owns the
 * model it loads and frees it before returning.
 */
public final class Sampler {

  static {
    dev.latentstream.model.Libtorch.load();
  }

  private Sampler() {}

  /**
   * @param data needed only for models without a prior (ae, dae); may be null otherwise
   */
  public static Png sample(Path runDir, int n, long seed, Dataset data, FrameRenderer renderer) {
    if (n < 1 || n > 10_000) {
      throw new IllegalArgumentException("--n must be from 1 to 10000, got " + n);
    }
    Checkpoint.Progress progress = Checkpoint.readProgress(runDir);
    JobConfig job = progress.job();
    int side = progress.height();
    int width = progress.width();
    Autoencoder model = Models.create(job, side, width);
    try {
      Checkpoint.load(runDir, model, List.of());
      try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
        model.eval();
        manual_seed(seed);
        float[] z = TensorData.floats(randn(n, job.latent()));
        if (!model.hasPrior()) {
          if (data == null) {
            throw new IllegalArgumentException("sampling a " + job.model().wireName()
                + " needs its dataset, to fit the distribution of its codes");
          }
          int count = Math.min(Trainer.SCAN_COUNT, data.test().count());
          float[] pixels = TensorData.unitFloats(data.test().pixels(), 0, count * data.test().imageSize());
          float[] codes = TensorData.floats(model.encode(TensorData.tensor(pixels, count, data.test().imageSize())).mean());
          int[] labels = new int[count];
          LatentGeometry g2 = new LatentGeometry(codes, labels, count, job.latent(), 1);
          for (int i = 0; i < z.length; i++) {
            z[i] = g2.mean[i % job.latent()] + g2.std[i % job.latent()] * z[i];
          }
        }
        Tensor images = TensorData.cpuContiguousFloat(model.decode(TensorData.tensor(z, n, job.latent())));
        int columns = (int) Math.ceil(Math.sqrt(n));
        return renderer.grid(TensorData.segment(images), n, side, width, columns);
      }
    } finally {
      model.close();
    }
  }
}
