/**
 * The run directory, and the one owner of its format: {@link dev.latentstream.rundir.RunDirectoryWriter}
 * (a training listener writing {@code job.json}, {@code metrics.csv}, {@code loss.png} and the epoch
 * images), {@link dev.latentstream.rundir.MetricsCsv} (writes {@code metrics.csv} and is the only
 * parser of it: read it through {@link dev.latentstream.rundir.MetricsCsv#read}), {@link
 * dev.latentstream.rundir.LossPlot} and {@link dev.latentstream.rundir.Checkpoint} ({@code checkpoint/},
 * the trainer's {@link dev.latentstream.train.CheckpointStore}).
 *
 * <p>Threads: the writer and the checkpoint run on the trainer thread, like every listener; the static
 * readers ({@code MetricsCsv.read}, {@code Checkpoint.readProgress}) are blocking and may run on any
 * thread but an event loop.
 */
package dev.latentstream.rundir;
