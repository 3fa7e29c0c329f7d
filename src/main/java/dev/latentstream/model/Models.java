package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.getDefaultCPUGenerator;
import static org.bytedeco.pytorch.global.torch.manual_seed;

import dev.latentstream.config.JobConfig;
import org.bytedeco.pytorch.Generator;

/**
 * Builds the model a job asks for. Image sides come from the dataset, everything else from the job.
 *
 * <p>Why a lock: libtorch's layers draw their initial weights from its one process-wide default CPU
 * generator, with no way to hand them another. So every model is built holding {@link
 * #DEFAULT_GENERATOR}, and a seeded model ({@link #seeded}) gets the same weights whatever other
 * jobs build at the same time. After that a job draws from a generator of its own; anything that
 * still draws from the default generator while a seeded model is built (a model without a generator
 * of its own, outside this class) can change that model's weights.
 */
public final class Models {
  private Models() {}

  private static final Object DEFAULT_GENERATOR = new Object();

  /**
   * A model and the CPU generator of its job's own, which goes on from where the initial weights
   * left off. The caller owns both, and closes the generator after the model.
   */
  public record Seeded(Autoencoder model, Generator generator) {}

  /** The model for {@code job}, its initial weights drawn from libtorch's default generator. */
  public static Autoencoder create(JobConfig job, int height, int width) {
    synchronized (DEFAULT_GENERATOR) {
      return build(job, height, width);
    }
  }

  /**
   * The model for {@code job} with its initial weights drawn from {@code job.seed()}, and a
   * generator of its own that draws what libtorch's default generator would draw next had the job
   * the process to itself: the same numbers as {@code manual_seed(seed)} then building it alone.
   * The model does not draw from it yet (see {@link Autoencoder#drawFrom}): that depends on its
   * device. Call outside any {@code PointerScope}, or the generator dies with the scope.
   */
  public static Seeded seeded(JobConfig job, int height, int width) {
    synchronized (DEFAULT_GENERATOR) {
      manual_seed(job.seed());
      Autoencoder model = build(job, height, width);
      return new Seeded(model, getDefaultCPUGenerator().clone());
    }
  }

  private static Autoencoder build(JobConfig job, int height, int width) {
    return switch (job.model()) {
      case ae, dae -> new MlpAutoencoder(job, height, width);
      case vae -> new MlpVae(job, height, width);
      case conv_vae -> new ConvVae(job, height, width);
      case aae -> new AdversarialAutoencoder(job, height, width);
    };
  }
}
