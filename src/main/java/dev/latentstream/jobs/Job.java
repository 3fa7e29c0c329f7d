package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One job: a run directory, its spec and where it stands. Its status changes only through {@link
 * #moveTo}, which refuses a move the life cycle does not have (a completed job never runs again:
 * resuming it makes a new {@code Job} for the same run).
 *
 * <p>Threads: the status and the request flags are written by the trainer verticle's context (see
 * {@link JobControl}); the progress fields are written by the job's trainer thread ({@link
 * EventPublisher}); anyone reads them (all volatile).
 */
final class Job {

  enum Status {
    queued,
    running,
    paused,
    completed,
    stopped,
    failed,
    /**
     * Stopped by a graceful server shutdown; resumed by the next server when {@code
     * resumeInterrupted}.
     */
    interrupted,
    /** A run directory this server cannot read (see {@link Job#damage}); it can only be deleted. */
    damaged;

    /** The statuses this one may move to. */
    private Set<Status> next() {
      return switch (this) {
        case queued -> EnumSet.of(running, stopped, interrupted);
        case running -> EnumSet.of(paused, completed, stopped, failed, interrupted);
        case paused -> EnumSet.of(running, completed, stopped, failed, interrupted);
        // A trainer that finishes while the server shuts down reports how it ended.
        case interrupted -> EnumSet.of(completed, failed);
        case completed, stopped, failed, damaged -> EnumSet.noneOf(Status.class);
      };
    }
  }

  final int num;
  final String id;
  final Path runDir;

  /** Null only for a {@code damaged} run whose job.json does not read. */
  final JobConfig spec;

  /** When it was first queued: the queue's order across restarts. */
  volatile long queuedAtMillis = System.currentTimeMillis();

  /** Why a {@code damaged} run cannot be read; null otherwise. */
  volatile String damage;

  /** The checkpoint step this run continues from, or -1 for a fresh run. */
  final long resumedAtStep;

  private volatile Status status;
  volatile Trainer trainer;

  /**
   * What the user asked for while the trainer was not yet built (the dataset loads first); the
   * trainer thread applies it as soon as it has a {@link Trainer}. Both sides write their field,
   * then read the other's: one of them sees both.
   */
  volatile boolean pauseRequested;

  volatile boolean stopRequested;
  volatile long step;
  volatile int epoch;
  volatile int batchesPerEpoch;
  volatile double testLoss = Double.NaN;

  /** The IWAE bound after the final epoch of a VAE run, nats per image; NaN until then. */
  volatile double iwae = Double.NaN;

  volatile double imagesPerSecond;
  volatile double epochSeconds = Double.NaN;
  volatile String device = "";

  /**
   * The engine the run computes with once it started ({@code libtorch} or {@code native}); empty
   * before.
   */
  volatile String engine = "";

  volatile List<String> classes = List.of();
  volatile String error;

  /** The id of the sweep this job is a member of, or null. */
  volatile String sweep;

  /** The trainer node that trains it (host:cluster port), or null on a single process. */
  volatile String node;

  /** How many times another trainer node took it over from one that went away. */
  volatile int failovers;

  /**
   * Set when another node of the failover group holds this job's lease now (its name): this node
   * forgets the job and writes nothing more for it.
   */
  volatile String movedTo;

  volatile long startedAtMillis;
  volatile long updatedAtMillis = System.currentTimeMillis();

  Job(int num, String id, Path runDir, JobConfig spec, Status status, long resumedAtStep) {
    this.num = num;
    this.id = id;
    this.runDir = runDir;
    this.spec = spec;
    this.status = status;
    this.resumedAtStep = resumedAtStep;
    this.step = Math.max(0, resumedAtStep);
  }

  Status status() {
    return status;
  }

  /**
   * Moves this job to {@code to}.
   *
   * @throws IllegalStateException if the life cycle has no such move (a bug in the caller, never a
   *     user's error)
   */
  void moveTo(Status to) {
    Status from = status;
    if (!from.next().contains(to)) {
      throw new IllegalStateException("job " + id + " cannot go from " + from + " to " + to);
    }
    status = to;
    updatedAtMillis = System.currentTimeMillis();
  }

  /** Records how its trainer ended; a stop that a shutdown asked for stays {@code interrupted}. */
  void finished(RunSummary s) {
    Status to =
        switch (s.status()) {
          case COMPLETED -> Status.completed;
          case STOPPED -> status == Status.interrupted ? Status.interrupted : Status.stopped;
          case FAILED -> Status.failed;
        };
    if (to != status) {
      moveTo(to);
    }
    error = s.error();
    iwae = s.iwae();
    trainer = null;
  }

  boolean is(Status s) {
    return status == s;
  }

  /**
   * What the run already showed before this job continues it: its classes, last test loss and step
   * rate.
   */
  void carryOver(Job before) {
    classes = before.classes;
    testLoss = before.testLoss;
    batchesPerEpoch = before.batchesPerEpoch;
    device = before.device;
    failovers = before.failovers;
    node = before.node;
    queuedAtMillis = System.currentTimeMillis();
  }

  /**
   * A run directory that cannot be read, listed with the reason so its owner can see and delete it.
   */
  static Job damaged(int num, Path runDir, JobConfig specOrNull, String reason) {
    Job j = new Job(num, runDir.getFileName().toString(), runDir, specOrNull, Status.damaged, -1);
    j.damage = reason;
    j.error = reason;
    return j;
  }

  boolean resumed() {
    return resumedAtStep >= 0;
  }

  boolean active() {
    return status == Status.queued || status == Status.running || status == Status.paused;
  }

  /** As clients and status.json see it (see {@link JobJson}). */
  JsonObject toJson() {
    return JobJson.of(this);
  }
}
