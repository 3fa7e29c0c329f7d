/**
 * What the loss curve hides: how a model uses its latent space ({@link
 * dev.latentstream.diagnostics.Diagnostics}: KL or code variance per dimension, active units, top-k
 * share) and the alarms raised from it and from the test loss ({@link
 * dev.latentstream.diagnostics.Warning}).
 *
 * <p>Everything here is plain Java over arrays, with no libtorch and no threads of its own: the
 * trainer computes the inputs on its thread and calls in; the records are immutable and may cross
 * threads.
 */
package dev.latentstream.diagnostics;
