package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.binary_cross_entropy_with_logits;

import dev.latentstream.config.JobConfig;
import org.bytedeco.pytorch.SequentialImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * The adversarial autoencoder of Makhzani et al. (2015): a deterministic MLP autoencoder whose
 * codes a discriminator learns to tell from draws of the N(0, I) prior, while the encoder, as
 * generator, learns to fool it. The three phases (reconstruction, discriminator, generator) are
 * driven by the trainer; this class provides each phase's loss.
 */
public final class AdversarialAutoencoder extends DeterministicAutoencoder {

  private final SequentialImpl discriminator;

  public AdversarialAutoencoder(JobConfig job, int height, int width) {
    super("aae", job, height, width, false);
    discriminator =
        register_module(
            "discriminator", mlp(layout.discriminator(), JobConfig.Activation.relu, false));
  }

  public SequentialImpl encoderModule() {
    return encoder;
  }

  public SequentialImpl decoderModule() {
    return decoder;
  }

  public SequentialImpl discriminatorModule() {
    return discriminator;
  }

  /** Discriminator phase: prior draws are labelled real (1), encoder codes fake (0). */
  public Tensor discriminatorLoss(Tensor priorSamples, Tensor codes) {
    Tensor real = discriminator.forward(priorSamples);
    Tensor fake = discriminator.forward(codes.detach());
    return binary_cross_entropy_with_logits(real, real.new_ones(real.sizes()))
        .add(binary_cross_entropy_with_logits(fake, fake.new_zeros(fake.sizes())));
  }

  /** Generator phase: the encoder is rewarded when its codes are taken for prior draws. */
  public Tensor generatorLoss(Tensor codes) {
    Tensor judged = discriminator.forward(codes);
    return binary_cross_entropy_with_logits(judged, judged.new_ones(judged.sizes()));
  }
}
