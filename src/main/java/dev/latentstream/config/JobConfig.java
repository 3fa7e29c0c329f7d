package dev.latentstream.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One training job, fully resolved: every field has a value after {@link JobConfigs#load}. Layer
 * sizes live here and nowhere else; models read them from this record.
 *
 * <p>Keys (JSON names are the component names): see the "Job files" table of {@code
 * docs/configuration.md}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobConfig(
    String name,
    String description,
    ModelType model,
    String dataset,
    List<Integer> hidden,
    int latent,
    Activation activation,
    ReconLoss loss,
    Reduction reduction,
    double beta,
    Noise noise,
    Conv conv,
    Discriminator discriminator,
    OptimizerType optimizer,
    double lr,
    int batchSize,
    int epochs,
    long seed,
    String device,
    int frameEverySteps,
    int threads,
    int checkpointEverySeconds,
    int diagnosticsEverySteps,
    double freeBits,
    int klWarmupSteps,
    int iwaeSamples,
    boolean keepEpochCheckpoints,
    Engine engine) {

  public enum ModelType {
    ae,
    dae,
    vae,
    @com.fasterxml.jackson.annotation.JsonProperty("conv-vae")
    conv_vae,
    aae;

    public String wireName() {
      return this == conv_vae ? "conv-vae" : name();
    }

    public boolean variational() {
      return this == vae || this == conv_vae;
    }
  }

  public enum Activation {
    relu,
    sigmoid,
    tanh
  }

  /** Reconstruction loss, summed over pixels and averaged over the batch ("per image"). */
  public enum ReconLoss {
    bce,
    mse
  }

  /**
   * How loss terms are reduced within one image: {@code sum} over pixels and latent dimensions (the
   * PyTorch VAE example), or {@code mean} (the Keras convolutional VAE tutorial). Batches are
   * always averaged, so every reported figure is per image.
   */
  public enum Reduction {
    sum,
    mean
  }

  /**
   * What computes the training step: {@code libtorch} (autograd and libtorch's optimisers, nothing
   * hand-written), {@code native} (latentstream's hand-written step, loss and optimiser kernels; a
   * job they cannot run is refused with the reason) or {@code auto} (native where it applies, else
   * libtorch). The engine a run actually used is reported beside it ({@code
   * train.RunStart#engine}).
   */
  public enum Engine {
    LIBTORCH("libtorch"),
    NATIVE("native"),
    AUTO("auto");

    private final String wireName;

    Engine(String wireName) {
      this.wireName = wireName;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String wireName() {
      return wireName;
    }

    /** The engine named {@code name} (libtorch, native or auto, any case). */
    public static Engine of(String name) {
      for (Engine e : values()) {
        if (e.wireName.equalsIgnoreCase(name)) {
          return e;
        }
      }
      throw new ConfigException(
          "\"engine\" must be libtorch, native or auto, got \"" + name + "\"");
    }
  }

  public enum OptimizerType {
    adam,
    rmsprop
  }

  /**
   * Input corruption for the denoising autoencoder. {@code level} is σ (gaussian) or the drop
   * probability (mask).
   */
  public record Noise(NoiseKind kind, double level) {}

  public enum NoiseKind {
    gaussian,
    mask
  }

  /**
   * Convolutional VAE layout: encoder conv channels (first stride 1, second stride 2, rest stride
   * 1) and the dense width.
   */
  public record Conv(List<Integer> channels, int dense) {}

  /** The adversarial autoencoder's discriminator: hidden widths and its own learning rate. */
  public record Discriminator(List<Integer> hidden, double lr) {}

  /** This job with another epoch count, checked by the same rule as a spec's {@code epochs}. */
  public JobConfig withEpochs(int newEpochs) {
    JobConfigs.checkEpochs(newEpochs);
    return with(newEpochs, engine);
  }

  /**
   * This job on another engine; a resumed run may change it, as nothing in the checkpoint depends
   * on it.
   */
  public JobConfig withEngine(Engine newEngine) {
    return with(epochs, java.util.Objects.requireNonNull(newEngine));
  }

  /** This job with the components a run may change after its start replaced. */
  private JobConfig with(int newEpochs, Engine newEngine) {
    return new JobConfig(
        name,
        description,
        model,
        dataset,
        hidden,
        latent,
        activation,
        loss,
        reduction,
        beta,
        noise,
        conv,
        discriminator,
        optimizer,
        lr,
        batchSize,
        newEpochs,
        seed,
        device,
        frameEverySteps,
        threads,
        checkpointEverySeconds,
        diagnosticsEverySteps,
        freeBits,
        klWarmupSteps,
        iwaeSamples,
        keepEpochCheckpoints,
        newEngine);
  }
}
