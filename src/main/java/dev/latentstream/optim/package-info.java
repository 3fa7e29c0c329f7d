/**
 * Optimisers as the trainer uses them: the {@link dev.latentstream.optim.Optim} interface,
 * libtorch's own Adam and RMSprop behind it, and {@link dev.latentstream.optim.FusedAdam}, which
 * does Adam's update in one native pass per parameter. {@link dev.latentstream.optim.Optimizers}
 * picks one for a job.
 *
 * <p>Threads and ownership: an optimiser and its state tensors belong to the trainer thread that
 * built it, which closes it when the run ends. Nothing here knows about the loop or the run
 * directory.
 */
package dev.latentstream.optim;
