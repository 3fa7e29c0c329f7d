package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.clamp;
import static org.bytedeco.pytorch.global.torch.rand_like;
import static org.bytedeco.pytorch.global.torch.randn_like;

import dev.latentstream.config.JobConfig;
import java.util.Arrays;
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
   * {@link #corrupt(Tensor)} written into {@code out}, a tensor of {@code x}'s shape, dtype and
   * device that the caller reuses from step to step: the same draws from the same generator and the
   * same values bit for bit (the noise is drawn into {@code out} as {@code randn_like} or {@code
   * rand_like} would draw it, and each operation is the allocating form's with its operands
   * swapped), without the four fresh {@code [batch, pixels]} tensors of the allocating form.
   * Returns {@code out}, or {@code x} when nothing corrupts it; at level 0 the noise is drawn all
   * the same, as {@link #corrupt(Tensor)} draws it, so the draws after it stay where they were.
   *
   * @throws IllegalArgumentException when {@code out}'s shape is not {@code x}'s
   */
  public Tensor corruptInto(Tensor x, Tensor out) {
    if (job.noise() == null) {
      return x;
    }
    if (!sameShape(x, out)) {
      throw new IllegalArgumentException(
          "the corrupted batch's tensor has shape " + shape(out) + ", the batch " + shape(x));
    }
    double level = noiseLevel;
    return switch (job.noise().kind()) {
      case gaussian -> {
        out.normal_(0, 1, draws());
        if (level == 0) {
          yield x;
        }
        // (noise · level) + x, clipped: x + noise · level of corrupt(x, noise).
        out.mul_(new Scalar(level));
        out.add_(x);
        out.clamp_(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
        yield out;
      }
      case mask -> {
        out.uniform_(0, 1, draws());
        if (level == 0) {
          yield x;
        }
        // The kept pixels' mask as 1.0 / 0.0 in place, times x: x · mask of corrupt(x, noise).
        out.ge_(new Scalar(level));
        out.mul_(x);
        yield out;
      }
    };
  }

  private static boolean sameShape(Tensor a, Tensor b) {
    if (a.dim() != b.dim()) {
      return false;
    }
    for (int i = 0; i < a.dim(); i++) {
      if (a.size(i) != b.size(i)) {
        return false;
      }
    }
    return true;
  }

  private static String shape(Tensor t) {
    long[] sizes = new long[(int) t.dim()];
    Arrays.setAll(sizes, i -> t.size(i));
    return Arrays.toString(sizes);
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
