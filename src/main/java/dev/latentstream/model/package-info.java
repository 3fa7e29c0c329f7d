/**
 * The autoencoder family as libtorch modules: MLP autoencoder (also denoising), MLP VAE (also
 * β-VAE), convolutional VAE and adversarial autoencoder. Models mirror the maths ({@code encode},
 * {@code reparameterize}, {@code decode}) and take every layer size from the {@link
 * dev.latentstream.config.JobConfig}.
 *
 * <p>Ownership: a model and its native parameters belong to the trainer thread that built it; they
 * are created outside any {@code PointerScope} and closed by the trainer when the run ends.
 */
package dev.latentstream.model;
