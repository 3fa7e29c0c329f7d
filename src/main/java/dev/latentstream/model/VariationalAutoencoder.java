package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.randn_like;

import dev.latentstream.config.JobConfig;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * A VAE: an encoder to a diagonal Gaussian posterior q(z|x), a reparameterised draw z = μ + σ · ε,
 * and a decoder to per-pixel logits. {@link #forward} is the one definition of that pass, and
 * {@link Losses#variational} of its objective: the models' own losses, the native step's libtorch
 * fallback, {@code evaluate}, and the gradient test's reference all go through them.
 */
public abstract class VariationalAutoencoder extends Autoencoder {

  /** One pass: the posterior, the noise ε drawn for it, the code z and the decoder's logits. */
  public record Pass(Encoded posterior, Tensor eps, Tensor z, Tensor logits) {}

  protected VariationalAutoencoder(String name, JobConfig job, int height, int width) {
    super(name, job, height, width);
  }

  /** Encode, draw ε ~ N(0, I), reparameterise, decode. */
  public final Pass forward(Tensor x) {
    return forward(x, null);
  }

  /** {@link #forward(Tensor)} with a given ε ({@code [batch, latent]}), or a fresh one for null. */
  public final Pass forward(Tensor x, Tensor eps) {
    Encoded q = encode(x);
    Tensor noise = eps == null ? randn_like(q.mean(), draws()) : eps;
    Tensor z = reparameterize(q.mean(), q.logVar(), noise);
    return new Pass(q, noise, z, decodeLogits(z));
  }

  /** z = μ + σ · ε, σ = exp(log σ² / 2): the reparameterisation trick. */
  public static Tensor reparameterize(Tensor mu, Tensor logVar, Tensor eps) {
    Tensor std = logVar.mul(new Scalar(0.5)).exp();
    return mu.add(eps.mul(std));
  }

  /** The objective of one pass against {@code target}. */
  public final Losses losses(Pass pass, Tensor target, double beta, double freeBits) {
    return Losses.variational(pass.logits(), target, pass.posterior(), job, beta, freeBits);
  }

  @Override
  public final Losses losses(Tensor input, Tensor target, double beta) {
    return losses(input, target, beta, 0);
  }

  @Override
  public final Losses losses(Tensor input, Tensor target, double beta, double freeBits) {
    return losses(forward(input), target, beta, freeBits);
  }
}
