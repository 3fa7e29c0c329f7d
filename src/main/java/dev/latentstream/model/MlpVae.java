package dev.latentstream.model;

import dev.latentstream.config.JobConfig;
import java.util.List;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.SequentialImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * The MLP variational autoencoder of the PyTorch example (784-400-20 by default) and, with β ≠ 1,
 * the β-VAE of Higgins et al. (2017): loss = reconstruction + β · KL.
 */
public final class MlpVae extends VariationalAutoencoder {

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

  @Override
  public Tensor decodeLogits(Tensor z) {
    return decoder.forward(z);
  }
}
