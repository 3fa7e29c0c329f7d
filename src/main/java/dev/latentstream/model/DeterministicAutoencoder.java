package dev.latentstream.model;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ModelLayout;
import org.bytedeco.pytorch.SequentialImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * An MLP autoencoder with a deterministic code: pixels → hidden… → code → …hidden → pixels, the
 * configured activation after every hidden layer, sigmoid output. Trained on reconstruction alone
 * here; subclasses add input corruption ({@link MlpAutoencoder}) or an adversarial prior ({@link
 * AdversarialAutoencoder}).
 */
public abstract class DeterministicAutoencoder extends Autoencoder {

  protected final ModelLayout.Mlp layout;
  protected final SequentialImpl encoder;
  protected final SequentialImpl decoder;

  /**
   * @param activateCode whether the code layer gets the activation too (not for codes matched to
   *     N(0, I))
   */
  protected DeterministicAutoencoder(
      String name, JobConfig job, int height, int width, boolean activateCode) {
    super(name, job, height, width);
    layout = ModelLayout.mlp(job, height, width);
    encoder = register_module("encoder", mlp(layout.encoder(), job.activation(), activateCode));
    decoder = register_module("decoder", mlp(layout.decoder(), job.activation(), false));
  }

  @Override
  public Encoded encode(Tensor x) {
    return new Encoded(encoder.forward(x), null);
  }

  @Override
  public Tensor decodeLogits(Tensor z) {
    return decoder.forward(z);
  }

  @Override
  public Losses losses(Tensor input, Tensor target, double beta) {
    Tensor codes = encode(input).mean();
    Tensor recon = Losses.reconstruction(decodeLogits(codes), target, job.loss(), job.reduction());
    return Losses.of(recon, "recon", recon).withCodes(codes);
  }
}
