/**
 * The run directory's trainer side: {@link dev.latentstream.rundir.RunDirectoryWriter} (a training
 * listener writing {@code job.json}, {@code metrics.csv} through {@link
 * dev.latentstream.runformat.MetricsCsv}, {@code loss.png} and the epoch images under {@link
 * dev.latentstream.runformat.RunLayout}'s names), {@link dev.latentstream.rundir.LossPlot}, {@link
 * dev.latentstream.rundir.Checkpoint} ({@code checkpoint/}, the trainer's {@link
 * dev.latentstream.train.CheckpointStore}, which needs the model and optimiser classes), {@link
 * dev.latentstream.rundir.RunStatus} ({@code status.json}: where a run stands, readable without its
 * model) and {@link dev.latentstream.rundir.RunLock} ({@code run.lock}: the one process that trains
 * the run). Readers that link none of the trainer's classes (gateways) use {@code
 * dev.latentstream.runformat} alone.
 *
 * <p>Every file is replaced whole or not at all ({@link dev.latentstream.runformat.AtomicFile};
 * metrics.csv grows by whole rows), so a crash or a full disk leaves no half-written file under its
 * final name and no temporary file; a full disk is an exception whose message names the file and
 * the disk.
 *
 * <p>Threads: the writer and the checkpoint run on the trainer thread, like every listener; the
 * static readers ({@code Checkpoint.readProgress}, {@code Checkpoint.loadModel}, {@code
 * RunStatus.read}) are blocking and may run on any thread but an event loop.
 */
package dev.latentstream.rundir;
