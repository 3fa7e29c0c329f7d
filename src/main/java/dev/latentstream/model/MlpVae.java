package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.randn_like;

import dev.latentstream.config.JobConfig;
import java.util.List;
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
    List<Integer> hidden = job.hidden();
    int last = hidden.getLast();
    encoder =
        register_module(
            "encoder",
            mlp(
                concat(height * width, hidden.subList(0, hidden.size() - 1), last),
                job.activation(),
                true));
    mu = register_module("mu", new LinearImpl(last, job.latent()));
    logVar = register_module("logvar", new LinearImpl(last, job.latent()));
    decoder =
        register_module(
            "decoder",
            mlp(concat(job.latent(), reversed(hidden), height * width), job.activation(), false));
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
