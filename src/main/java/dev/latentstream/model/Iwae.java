package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.softplus;

import dev.latentstream.config.JobConfig;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;

/**
 * The importance-weighted bound of Burda, Grosse and Salakhutdinov (2016):
 *
 * <pre>log p(x) ≥ E[log 1/K Σ_k p(x, z_k) / q(z_k | x)],  z_k ~ q(z | x),</pre>
 *
 * in nats per image. K = 1 is the ELBO; the bound tightens as K grows and equals log p(x) for every
 * K when q is the true posterior. Samples are drawn in chunks of at most {@code maxRows} decoder
 * rows and combined with a running log-sum-exp, so K may be large (thousands) at a bounded memory
 * cost.
 *
 * <p>Runs on the thread that owns the model, with gradients off; every tensor it makes lives in a
 * {@code PointerScope} per chunk.
 */
public final class Iwae {

  private static final double LOG_2PI = Math.log(2 * Math.PI);

  /** Decoder rows per pass within a chunk (see {@link #logLikelihood(Model, Tensor, Tensor)}). */
  static final long DECODER_ROWS = 4096;

  /**
   * What one decoder pass may hold in its widest activation ({@link
   * Autoencoder#widestDecoderFloats}): the MLP's 28×28 image at {@link #DECODER_ROWS} rows, 13 MB.
   * The conv VAE's decoder holds 32 feature maps of the image per row in the preset, so its passes
   * get a 32nd of the rows (at least one sample per image of the batch), where at 4,096 rows its
   * activations came to 400 MB each and the process to 5 GB.
   */
  static final long DECODER_BYTES = DECODER_ROWS * 784 * Float.BYTES;

  private Iwae() {}

  /** A latent-variable model with a diagonal Gaussian posterior q(z|x) and a N(0, I) prior. */
  public interface Model {
    int latentDim();

    /** The posterior's mean and log-variance for a batch {@code [b, pixels]}. */
    Autoencoder.Encoded posterior(Tensor x);

    /**
     * log p(x | z) for latents {@code z} of shape {@code [k, b, latent]} and images {@code [b,
     * pixels]}: {@code [k, b]}.
     */
    Tensor logLikelihood(Tensor z, Tensor x);

    /** The most rows one decoder pass takes. */
    default long decoderRows() {
      return DECODER_ROWS;
    }

    /** Where the samples z come from: libtorch's default generator unless the model has its own. */
    default GeneratorOptional draws() {
      return new GeneratorOptional();
    }
  }

  /**
   * Whether the bound is defined for this job: a VAE with a Bernoulli decoder (the {@code bce}
   * loss).
   */
  public static boolean applies(JobConfig job) {
    return job.model().variational() && job.loss() == JobConfig.ReconLoss.bce;
  }

  /**
   * The VAE as an IWAE model: the decoder's logits define independent Bernoulli pixels, so log
   * p(x|z) is minus the summed binary cross-entropy (the ELBO's reconstruction term with {@code
   * reduction: sum}).
   */
  public static Model of(Autoencoder vae) {
    if (!applies(vae.job())) {
      throw new IllegalArgumentException(
          "the IWAE bound needs a vae or conv-vae trained with the bce loss, not "
              + vae.job().model().wireName()
              + " with "
              + vae.job().loss());
    }
    return new Model() {
      @Override
      public int latentDim() {
        return vae.latentDim();
      }

      @Override
      public Autoencoder.Encoded posterior(Tensor x) {
        return vae.encode(x);
      }

      @Override
      public GeneratorOptional draws() {
        return vae.draws();
      }

      @Override
      public long decoderRows() {
        return Math.max(1, DECODER_BYTES / (vae.widestDecoderFloats() * Float.BYTES));
      }

      @Override
      public Tensor logLikelihood(Tensor z, Tensor x) {
        long k = z.size(0);
        long b = z.size(1);
        Tensor logits = vae.decodeLogits(z.reshape(k * b, z.size(2))).view(k, b, x.size(1));
        // log Bernoulli(x; σ(l)) = x·l − softplus(l), summed over pixels. In place, and the
        // softplus freed
        // at once rather than at the end of the chunk's scope: each [k, b, pixels] temporary is ~50
        // MB at
        // the default chunk size, and the chain x·l, softplus, difference held three of them beside
        // the logits.
        Tensor softplus = softplus(logits);
        Tensor logPx = logits.mul_(x).sub_(softplus);
        softplus.close();
        Tensor sum =
            logPx.sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        logits.close();
        return sum;
      }
    };
  }

  /**
   * The bound for each of the {@code n} images in {@code images} ({@code [n, pixels]}), with {@code
   * k} samples each.
   *
   * @param maxRows decoder rows per chunk (images × samples), which bounds memory
   * @param progress told how many images are done after each batch of images (may be null)
   */
  public static double[] perImage(
      Model model, Tensor images, int k, int maxRows, IntConsumer progress) {
    if (k < 1) {
      throw new IllegalArgumentException("K must be at least 1, got " + k);
    }
    if (maxRows < 1) {
      throw new IllegalArgumentException("maxRows must be at least 1, got " + maxRows);
    }
    int n = (int) images.size(0);
    int d = model.latentDim();
    double[] out = new double[n];
    int imagesPerBatch = Math.max(1, Math.min(n, maxRows / k));
    int samplesPerChunk = Math.max(1, Math.min(k, maxRows / imagesPerBatch));
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int from = 0; from < n; from += imagesPerBatch) {
        int b = Math.min(imagesPerBatch, n - from);
        double[] lse = new double[b];
        java.util.Arrays.fill(lse, Double.NEGATIVE_INFINITY);
        try (PointerScope batchScope = new PointerScope()) {
          Tensor x = images.narrow(0, from, b);
          Autoencoder.Encoded q = model.posterior(x);
          Tensor std = q.logVar().mul(new Scalar(0.5)).exp();
          // log q(z|x) has the same log-variance part for every sample: Σ_d (log σ²_d + log 2π) /
          // 2.
          Tensor logQConst =
              q.logVar()
                  .sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                  .add(new Scalar(d * LOG_2PI))
                  .mul(new Scalar(-0.5));
          for (int s = 0; s < k; s += samplesPerChunk) {
            int kc = Math.min(samplesPerChunk, k - s);
            try (PointerScope chunkScope = new PointerScope()) {
              Tensor eps =
                  randn(new long[] {kc, b, d}, model.draws(), new TensorOptions(x.device()));
              Tensor z = q.mean().unsqueeze(0).add(eps.mul(std.unsqueeze(0)));
              Tensor logPz =
                  z.pow(new Scalar(2.0))
                      .sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                      .add(new Scalar(d * LOG_2PI))
                      .mul(new Scalar(-0.5));
              Tensor logQ =
                  eps.pow(new Scalar(2.0))
                      .sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                      .mul(new Scalar(-0.5))
                      .add(logQConst.unsqueeze(0));
              Tensor logW =
                  logLikelihood(model, z, x)
                      .add(logPz)
                      .sub(logQ)
                      .to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
              double[] chunk = TensorData.doubles(logW.logsumexp(0));
              for (int i = 0; i < b; i++) {
                lse[i] = logAddExp(lse[i], chunk[i]);
              }
            }
          }
        }
        double logK = Math.log(k);
        for (int i = 0; i < b; i++) {
          out[from + i] = lse[i] - logK;
        }
        if (progress != null) {
          progress.accept(from + b);
        }
      }
    }
    return out;
  }

  /**
   * log p(x|z) for a chunk of samples {@code z} ({@code [k, b, latent]}), decoded {@link
   * Model#decoderRows()} rows at a time: the same draws and the same per-row sums as one pass over
   * the chunk, but the decoder's [rows, pixels] temporaries, which set the process's peak memory,
   * are a quarter the size at the default chunk of 16,384 rows.
   */
  static Tensor logLikelihood(Model model, Tensor z, Tensor x) {
    long k = z.size(0);
    long b = z.size(1);
    long perPiece = Math.max(1, model.decoderRows() / b);
    if (k <= perPiece) {
      return model.logLikelihood(z, x);
    }
    Tensor out =
        org.bytedeco.pytorch.global.torch.empty(
            new long[] {k, b},
            new TensorOptions(x.device()),
            new org.bytedeco.pytorch.MemoryFormatOptional());
    for (long s = 0; s < k; s += perPiece) {
      long len = Math.min(perPiece, k - s);
      try (PointerScope piece = new PointerScope()) {
        out.narrow(0, s, len).copy_(model.logLikelihood(z.narrow(0, s, len), x));
      }
    }
    return out;
  }

  /** The mean of {@link #perImage}: the bound in nats per image over the whole set. */
  public static double bound(Model model, Tensor images, int k, int maxRows, IntConsumer progress) {
    double sum = 0;
    for (double v : perImage(model, images, k, maxRows, progress)) {
      sum += v;
    }
    return sum / images.size(0);
  }

  static double logAddExp(double a, double b) {
    if (a == Double.NEGATIVE_INFINITY) {
      return b;
    }
    if (b == Double.NEGATIVE_INFINITY) {
      return a;
    }
    double m = Math.max(a, b);
    return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
  }
}
