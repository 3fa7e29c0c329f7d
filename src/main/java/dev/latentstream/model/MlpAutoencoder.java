package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.clamp;
import static org.bytedeco.pytorch.global.torch.rand_like;
import static org.bytedeco.pytorch.global.torch.randn_like;

import dev.latentstream.config.JobConfig;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * The plain MLP autoencoder ({@code ae}) and its denoising variant ({@code dae}): pixels → hidden…
 * → code → …hidden → pixels, the configured activation after every layer but the output, sigmoid
 * output. The denoising variant corrupts its input ({@link #corrupt}) and reconstructs the clean
 * image.
 */
public final class MlpAutoencoder extends DeterministicAutoencoder {

  private volatile double noiseLevel;

  public MlpAutoencoder(JobConfig job, int height, int width) {
    super(job.model().wireName(), job, height, width, true);
    noiseLevel = job.noise() == null ? 0 : job.noise().level();
  }

  @Override
  public boolean hasPrior() {
    return false;
  }

  public double noiseLevel() {
    return noiseLevel;
  }

  public void setNoiseLevel(double level) {
    noiseLevel = level;
  }

  /**
   * The denoising corruption: additive Gaussian noise of σ = level clipped to [0, 1], or masking
   * noise that zeroes each pixel with probability level. Identity for the plain autoencoder.
   */
  public Tensor corrupt(Tensor x) {
    return job.noise() == null ? x : corrupt(x, unitNoise(x));
  }

  /**
   * Fresh noise for {@link #corrupt(Tensor, Tensor)}: N(0, 1) for Gaussian corruption, U(0, 1) for
   * masking.
   */
  public Tensor unitNoise(Tensor x) {
    return job.noise() != null && job.noise().kind() == JobConfig.NoiseKind.mask
        ? rand_like(x, draws())
        : randn_like(x, draws());
  }

  /**
   * Corrupts {@code x} with given unit noise, so a fixed batch can be corrupted the same way at any
   * level.
   */
  public Tensor corrupt(Tensor x, Tensor unitNoise) {
    if (job.noise() == null || noiseLevel == 0) {
      return x;
    }
    return switch (job.noise().kind()) {
      case gaussian ->
          clamp(
              x.add(unitNoise.mul(new Scalar(noiseLevel))),
              new ScalarOptional(new Scalar(0.0)),
              new ScalarOptional(new Scalar(1.0)));
      case mask -> x.mul(unitNoise.ge(new Scalar(noiseLevel)).to(x.scalar_type()));
    };
  }
}
