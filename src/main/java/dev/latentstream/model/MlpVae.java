package dev.latentstream.model;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ModelLayout;
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

  @Override
  public Tensor decodeLogits(Tensor z) {
    return decoder.forward(z);
  }
}
