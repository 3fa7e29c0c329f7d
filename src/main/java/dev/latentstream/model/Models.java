package dev.latentstream.model;

import dev.latentstream.config.JobConfig;

/**
 * Builds the model a job asks for. Image sides come from the dataset, everything else from the job.
 */
public final class Models {
  private Models() {}

  public static Autoencoder create(JobConfig job, int height, int width) {
    return switch (job.model()) {
      case ae, dae -> new MlpAutoencoder(job, height, width);
      case vae -> new MlpVae(job, height, width);
      case conv_vae -> new ConvVae(job, height, width);
      case aae -> new AdversarialAutoencoder(job, height, width);
    };
  }
}
