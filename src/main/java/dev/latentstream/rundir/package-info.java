/**
 * The run directory's trainer side: {@link dev.latentstream.rundir.RunDirectoryWriter} (a training
 * listener writing {@code job.json}, {@code metrics.csv} through {@link
 * dev.latentstream.runformat.MetricsCsv}, {@code loss.png} and the epoch images under {@link
 * dev.latentstream.runformat.RunLayout}'s names), {@link dev.latentstream.rundir.LossPlot} and {@link
 * dev.latentstream.rundir.Checkpoint} ({@code checkpoint/}, the trainer's {@link
 * dev.latentstream.train.CheckpointStore}, which needs the model and optimiser classes). Readers that link
 * none of those (gateways) use {@code dev.latentstream.runformat} alone.
 *
 * <p>Threads: the writer and the checkpoint run on the trainer thread, like every listener; the static
 * readers ({@code Checkpoint.readProgress}, {@code Checkpoint.loadModel}) are blocking and may run on any
 * thread but an event loop.
 */
package dev.latentstream.rundir;
