package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.randn_like;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ModelLayout;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.SequentialImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * The MLP variational autoencoder of the PyTorch example (784-400-20 by default) and, with β ≠ 1,
 * the β-VAE of Higgins et al. (2017): loss = reconstruction + β · KL.
 */
public final class MlpVae extends Autoencoder {

  private final SequentialImpl encoder;
  private final LinearImpl mu;
  private final LinearImpl logVar;
  private final SequentialImpl decoder;

  public MlpVae(JobConfig job, int height, int width) {
    super("vae", job, height, width);
    ModelLayout.Variational layout = ModelLayout.variational(job, height, width);
    encoder = register_module("encoder", mlp(layout.encoder(), job.activation(), true));
    mu = register_module("mu", linear(layout.mu()));
    logVar = register_module("logvar", linear(layout.logVar()));
    decoder = register_module("decoder", mlp(layout.decoder(), job.activation(), false));
  }

  @Override
  public Encoded encode(Tensor x) {
    Tensor h = encoder.forward(x);
    return new Encoded(mu.forward(h), logVar.forward(h));
  }

  /** z = μ + σ · ε with ε ~ N(0, I): the reparameterisation trick. */
  public static Tensor reparameterize(Tensor mu, Tensor logVar) {
    return reparameterize(mu, logVar, randn_like(mu));
  }

  /** z = μ + σ · ε for a given ε: the one definition the hand-written step is checked against. */
  public static Tensor reparameterize(Tensor mu, Tensor logVar, Tensor eps) {
    Tensor std = logVar.mul(new Scalar(0.5)).exp();
    return mu.add(eps.mul(std));
  }

  @Override
  public Tensor decodeLogits(Tensor z) {
    return decoder.forward(z);
  }

  @Override
  public Losses losses(Tensor input, Tensor target, double beta) {
    return losses(input, target, beta, 0);
  }

  @Override
  public Losses losses(Tensor input, Tensor target, double beta, double freeBits) {
    Encoded e = encode(input);
    Tensor logits = decodeLogits(reparameterize(e.mean(), e.logVar()));
    return Losses.variational(logits, target, e, job, beta, freeBits);
  }
}
