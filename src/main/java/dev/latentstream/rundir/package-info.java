/**
 * The run directory, and the one owner of its format: {@link dev.latentstream.rundir.RunDirectoryWriter}
 * (a training listener writing {@code job.json}, {@code metrics.csv}, {@code loss.png} and the epoch
 * images), {@link dev.latentstream.rundir.MetricsCsv} (writes {@code metrics.csv} and is the only
 * parser of it: read it through {@link dev.latentstream.rundir.MetricsCsv#read}), {@link
 * dev.latentstream.rundir.LossPlot}, {@link dev.latentstream.rundir.Checkpoint} ({@code checkpoint/},
 * the trainer's {@link dev.latentstream.train.CheckpointStore}), {@link dev.latentstream.rundir.RunStatus}
 * ({@code status.json}: where a run stands, readable without its model) and {@link
 * dev.latentstream.rundir.RunLock} ({@code run.lock}: the one process that trains the run).
 *
 * <p>Every file is replaced whole or not at all ({@link dev.latentstream.rundir.AtomicFile}; metrics.csv is
 * appended in whole rows), so a crash or a full disk leaves no half-written file under its final name and
 * no temporary file; a full disk is an exception whose message names the file and the disk.
 *
 * <p>Threads: the writer and the checkpoint run on the trainer thread, like every listener; the static
 * readers ({@code MetricsCsv.read}, {@code Checkpoint.readProgress}, {@code RunStatus.read}) are blocking and
 * may run on any thread but an event loop.
 */
package dev.latentstream.rundir;
