/**
 * The training loop and its listener contract: {@link dev.latentstream.train.Trainer} (data, model,
 * loss, train, test, repeat), the step rules, live settings, the frames it renders between steps,
 * and what it reports through {@link dev.latentstream.train.TrainingListener} (plain records:
 * {@code RunStart}, {@code StepMetrics} and {@code RunSummary} of its own, the wire vocabulary's
 * {@code EpochResult}, {@code Frame} and {@code SettingChange} of {@code dev.latentstream.wire},
 * and the diagnostics records of {@code dev.latentstream.diagnostics}).
 *
 * <p>Threads: a trainer runs on one dedicated thread that builds, owns and frees every libtorch
 * object of the run; listeners are called on it. Other threads talk to it only through its {@code
 * Mailbox} (pause, resume, stop, set, submit). Nothing here imports Vert.x or the run-directory
 * format: the checkpoint is reached through {@link dev.latentstream.train.CheckpointStore}.
 */
package dev.latentstream.train;
