/**
 * Live exploration of a model: {@link dev.latentstream.explore.LiveModel} (what interactive
 * requests may ask: decode, encode, test images, the latent plane), its implementation {@link
 * dev.latentstream.explore.LiveView}, the latent plane itself ({@link
 * dev.latentstream.explore.LatentGeometry}), latent paths ({@link
 * dev.latentstream.explore.Interpolation}) and sampling a trained model ({@link
 * dev.latentstream.explore.Sampler}).
 *
 * <p>Threads: {@code LiveView} and {@code Sampler} touch libtorch and run only on the thread that
 * owns the model (the trainer thread, through {@code Trainer.submit}, or the CLI's main thread).
 * {@code LatentGeometry} is immutable and {@code Interpolation} is pure; both may be used anywhere.
 */
package dev.latentstream.explore;
