package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.sigmoid;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ModelLayout;
import java.util.List;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ReLUImpl;
import org.bytedeco.pytorch.SequentialImpl;
import org.bytedeco.pytorch.SigmoidImpl;
import org.bytedeco.pytorch.TanhImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * A member of the autoencoder family. Inputs are batches of flattened images, {@code [batch,
 * pixels]} floats in [0, 1]; codes are {@code [batch, latent]}.
 */
public abstract class Autoencoder extends Module {

  static {
    Libtorch.load();
  }

  /** A code and, for variational models, the log-variance of the posterior (null otherwise). */
  public record Encoded(Tensor mean, Tensor logVar) {}

  protected final JobConfig job;
  protected final int height;
  protected final int width;

  /** Where this model's random draws come from; null for libtorch's default generator. */
  private volatile Generator generator;

  protected Autoencoder(String name, JobConfig job, int height, int width) {
    super(name);
    this.job = job;
    this.height = height;
    this.width = width;
  }

  public final JobConfig job() {
    return job;
  }

  public final int height() {
    return height;
  }

  public final int width() {
    return width;
  }

  public final int pixels() {
    return height * width;
  }

  /**
   * Floats per image in the decoder's widest activation, which sets what a pass over many rows
   * costs in memory ({@link Iwae}): the image itself unless a model's decoder holds more.
   */
  public long widestDecoderFloats() {
    return pixels();
  }

  /**
   * The submodules that make up the decoder, by their registered names: what a page needs to decode
   * codes into images ({@code export ?part=decoder}).
   */
  public List<String> decoderModules() {
    return List.of("decoder");
  }

  /**
   * Makes this model draw its noise (a VAE's ε, a denoising autoencoder's corruption, an AAE's
   * prior samples, the IWAE's samples) from {@code generator}, its job's own, or from libtorch's
   * default generator for null. The generator must be on the model's device; its owner (the job)
   * closes it after the model.
   */
  public final void drawFrom(Generator generator) {
    this.generator = generator;
  }

  /**
   * This model's generator as libtorch's random functions take it: empty for the default one. A
   * native object: call it inside the caller's {@code PointerScope}.
   */
  public final GeneratorOptional draws() {
    Generator g = generator;
    return g == null ? new GeneratorOptional() : new GeneratorOptional(g);
  }

  public final int latentDim() {
    return job.latent();
  }

  /**
   * True when codes follow a N(0, I) prior (VAEs by their KL term, AAEs by their discriminator).
   */
  public boolean hasPrior() {
    return true;
  }

  public abstract Encoded encode(Tensor x);

  /** Decoder output before the sigmoid; losses use it directly. */
  public abstract Tensor decodeLogits(Tensor z);

  public Tensor decode(Tensor z) {
    return sigmoid(decodeLogits(z));
  }

  /** Reconstruction of {@code x} through the code (the posterior mean for VAEs). */
  public Tensor reconstruct(Tensor x) {
    return decode(encode(x).mean());
  }

  /**
   * The training objective on one batch: {@code input} may be corrupted (denoising), {@code target}
   * is the clean image. {@code beta} weights the KL term where there is one.
   */
  public abstract Losses losses(Tensor input, Tensor target, double beta);

  /**
   * {@link #losses(Tensor, Tensor, double)} with free bits: variational models keep at least {@code
   * freeBits} nats of KL per dimension in the objective (see {@link Losses#variational}); others
   * ignore it.
   */
  public Losses losses(Tensor input, Tensor target, double beta, double freeBits) {
    return losses(input, target, beta);
  }

  /**
   * Linear layers with the configured activation after each, from {@code sizes[0]} to the last size
   * (a layout's MLP widths).
   */
  protected static SequentialImpl mlp(
      List<Integer> sizes, JobConfig.Activation activation, boolean activateLast) {
    SequentialImpl seq = new SequentialImpl();
    for (int i = 0; i + 1 < sizes.size(); i++) {
      seq.push_back("linear" + i, new LinearImpl(sizes.get(i), sizes.get(i + 1)));
      if (i + 2 < sizes.size() || activateLast) {
        switch (activation) {
          case relu -> seq.push_back("act" + i, new ReLUImpl());
          case sigmoid -> seq.push_back("act" + i, new SigmoidImpl());
          case tanh -> seq.push_back("act" + i, new TanhImpl());
        }
      }
    }
    return seq;
  }

  /** The libtorch layer for one of the layout's linear layers. */
  protected static LinearImpl linear(ModelLayout.Linear l) {
    return new LinearImpl(l.in(), l.out());
  }
}
