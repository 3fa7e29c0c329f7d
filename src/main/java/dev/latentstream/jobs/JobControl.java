package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunIdentity;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What a user (or a shutdown) does to jobs: queue, pause, resume, stop, delete, change a setting.
 * Each step moves the {@link Job} through its life cycle, tells the viewers ({@link JobEvents}) and
 * launches what the {@link JobQueue} says has a slot. Threads: runs on the trainer verticle's
 * context only.
 */
final class JobControl {

  private final Path runsDir;
  private final JobQueue queue;
  private final TrainerThreads threads;
  private final JobEvents events;

  /**
   * Told of a run that trains again or is deleted: its explored model (see ModelRequests) must go.
   */
  private final Consumer<Job> changed;

  private boolean shuttingDown;

  /** The failover group's leases on a cluster, else null (see {@link Leases}). */
  private Leases leases;

  /** This trainer node's name (host:cluster port) on a cluster, else null. */
  private String node;

  private static final System.Logger LOG = System.getLogger(JobControl.class.getName());

  JobControl(
      Path runsDir,
      JobQueue queue,
      TrainerThreads threads,
      JobEvents events,
      Consumer<Job> changed) {
    this.runsDir = runsDir;
    this.changed = changed;
    this.queue = queue;
    this.threads = threads;
    this.events = events;
  }

  /**
   * Queues a new job numbered {@code num}; the caller then launches it ({@link #schedule}). On a
   * cluster two trainer nodes may start a job of the same name in the same second: the cluster-wide
   * number keeps their ids apart.
   */
  Job enqueue(JobConfig spec, int num, boolean clustered) {
    return enqueue(spec, num, clustered, null);
  }

  /**
   * As {@link #enqueue(JobConfig, int, boolean)}, for a member of the sweep {@code sweep} (null:
   * none).
   */
  Job enqueue(JobConfig spec, int num, boolean clustered, String sweep) {
    return enqueue(spec, num, idFor(spec, num, clustered), sweep);
  }

  /** The id a new job of {@code spec} numbered {@code num} gets. */
  String idFor(JobConfig spec, int num, boolean clustered) {
    return uniqueId(clustered ? spec.name() + "-" + num : spec.name());
  }

  /** As {@link #enqueue(JobConfig, int, boolean, String)}, under the id {@code id}. */
  Job enqueue(JobConfig spec, int num, String id, String sweep) {
    Job j = new Job(num, id, runsDir.resolve(id), spec, Job.Status.queued, -1);
    j.sweep = sweep;
    j.node = node;
    // The run exists from now on, under its id and number: a restarted server finds it queued.
    try {
      Files.createDirectories(j.runDir);
      Files.writeString(j.runDir.resolve("job.json"), JobConfigs.toJson(spec));
    } catch (IOException e) {
      throw new ReplyError(
          ReplyError.INTERNAL, "cannot create the run directory of " + id + ": " + e.getMessage());
    }
    new RunIdentity(id, num, sweep).write(j.runDir);
    events.writeStatusFile(j);
    queue.enqueue(j);
    events.status(j);
    return j;
  }

  String uniqueId(String name) {
    String base =
        name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String id = base;
    for (int i = 2; queue.containsId(id) || Files.exists(runsDir.resolve(id)); i++) {
      id = base + "-" + i;
    }
    return id;
  }

  /** Launches the queued jobs that have a slot (none once the server shuts down). */
  void schedule() {
    if (shuttingDown) {
      return;
    }
    for (Job j : queue.startable()) {
      j.moveTo(Job.Status.running);
      j.startedAtMillis = System.currentTimeMillis();
      j.error = null;
      events.writeStatusFile(j);
      events.status(j);
      threads.launch(j, this::finished);
    }
  }

  private void finished(Job j, RunSummary s) {
    if (j.movedTo != null) {
      moved(j);
      schedule();
      return;
    }
    j.finished(s);
    events.writeStatusFile(j);
    events.status(j);
    released(j);
    schedule();
  }

  void useLeases(Leases leases, String node) {
    this.leases = leases;
    this.node = node;
  }

  /** A job that ended here gives its lease back; one a shutdown interrupted keeps it. */
  private void released(Job j) {
    if (leases != null && !j.active() && !j.is(Job.Status.interrupted)) {
      leases
          .release(j.id)
          .onFailure(
              t ->
                  LOG.log(
                      System.Logger.Level.WARNING,
                      "cannot release the lease of " + j.id + ": " + t.getMessage()));
    }
  }

  /**
   * Another node of the failover group holds {@code j}'s lease now: this node forgets the job (a
   * running one once its trainer has ended without writing) and says so.
   */
  void lostLease(Job j, String owner) {
    if (j.movedTo != null) {
      return;
    }
    j.movedTo = owner;
    LOG.log(
        System.Logger.Level.WARNING,
        "node " + owner + " owns job " + j.id + " now: this node stops training it");
    if (j.trainer == null && !j.is(Job.Status.running) && !j.is(Job.Status.paused)) {
      moved(j);
    } else {
      j.stopRequested = true;
    }
  }

  private void moved(Job j) {
    queue.forget(j);
    LOG.log(
        System.Logger.Level.WARNING,
        "job "
            + j.id
            + (j.movedTo.equals(TrainerThreads.UNCONFIRMED)
                ? "'s lease could not be confirmed in time (another node may own it now)"
                : " is owned by node " + j.movedTo)
            + "; this node does not train it and wrote nothing more for it");
  }

  /**
   * A job of another node of the failover group that went away, taken over with its lease ({@code
   * was} as its run directory says): it continues here from its newest whole checkpoint (from the
   * start without one), counted as a failover. The rows of metrics.csv after that checkpoint are
   * replaced when it starts (see MetricsCsv#open), so each step is there once.
   */
  Job adopt(Job was, String from, boolean wasPaused) {
    Checkpoint.Progress p = null;
    if (Checkpoint.exists(was.runDir)) {
      try {
        p = Checkpoint.readProgress(was.runDir);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "cannot read the checkpoint of "
                + was.id
                + " ("
                + e.getMessage()
                + "); from the start");
      }
    }
    JobConfig spec = p != null ? p.job() : was.spec;
    if (p != null && p.epoch() >= spec.epochs()) {
      // It had trained every epoch when its node went: nothing is left to train.
      Job done = new Job(was.num, was.id, was.runDir, spec, Job.Status.queued, p.step());
      done.carryOver(was);
      done.epoch = p.epoch();
      done.moveTo(Job.Status.stopped);
      queue.list(done);
      events.writeStatusFile(done);
      events.status(done);
      released(done);
      return done;
    }
    Job again =
        new Job(was.num, was.id, was.runDir, spec, Job.Status.queued, p != null ? p.step() : -1);
    again.carryOver(was);
    again.epoch = p != null ? p.epoch() : 0;
    again.sweep = was.sweep;
    again.queuedAtMillis = was.queuedAtMillis;
    again.failovers = was.failovers + 1;
    again.node = node;
    changed.accept(was);
    Job before = queue.find(was.id).orElse(null);
    if (before != null && !before.active()) {
      queue.forget(before);
    }
    queue.enqueue(again);
    events.writeStatusFile(again);
    events.status(again);
    String line =
        "node "
            + (from == null ? "(unknown)" : from)
            + " went away: job "
            + was.id
            + " resumed on node "
            + node
            + (p != null ? " at step " + p.step() : " from the start");
    LOG.log(System.Logger.Level.INFO, line);
    events.log(again, line);
    schedule();
    if (wasPaused && again.is(Job.Status.running)) {
      setPaused(again, true);
    }
    return again;
  }

  /** A finished run found on the disk (another node of the group ran it): listed as it ended. */
  void listFound(Job j) {
    queue.list(j);
    events.status(j);
  }

  Job pause(Job j) {
    if (!j.is(Job.Status.running)) {
      throw new ReplyError(
          ReplyError.CONFLICT, "job " + j.id + " is " + j.status() + ", not running");
    }
    return setPaused(j, true);
  }

  /**
   * Records the request on the job (a trainer still being built picks it up) and tells a running
   * trainer.
   */
  private Job setPaused(Job j, boolean paused) {
    j.pauseRequested = paused;
    Trainer t = j.trainer;
    if (t != null) {
      if (paused) {
        t.pause();
      } else {
        t.resume();
      }
    }
    j.moveTo(paused ? Job.Status.paused : Job.Status.running);
    // The status file says paused too: a node that takes the job over keeps it paused.
    events.writeStatusFile(j);
    events.status(j);
    return j;
  }

  /** Resumes a paused job, or re-queues a finished one from its last checkpoint. */
  Job resume(Job j) {
    if (j.is(Job.Status.paused)) {
      return setPaused(j, false);
    }
    if (j.active()) {
      throw new ReplyError(ReplyError.CONFLICT, "job " + j.id + " is already " + j.status());
    }
    if (!Checkpoint.exists(j.runDir)) {
      throw new ReplyError(
          ReplyError.CONFLICT, "job " + j.id + " has no checkpoint to resume from");
    }
    Checkpoint.Progress p = Checkpoint.readProgress(j.runDir);
    JobConfig spec = p.job();
    if (p.epoch() >= spec.epochs()) {
      throw new ReplyError(
          ReplyError.CONFLICT, "job " + j.id + " already trained all " + spec.epochs() + " epochs");
    }
    changed.accept(j);
    Job again = new Job(j.num, j.id, j.runDir, spec, Job.Status.queued, p.step());
    again.epoch = p.epoch();
    again.carryOver(j);
    again.node = node;
    queue.enqueue(again);
    events.writeStatusFile(again);
    events.status(again);
    events.log(
        again,
        "resuming " + j.id + " from its checkpoint " + p.where() + " (step " + p.step() + ")");
    schedule();
    return again;
  }

  /** Queues an interrupted job that never reached a checkpoint again, from the start. */
  Job restart(Job j) {
    Job again = new Job(j.num, j.id, j.runDir, j.spec, Job.Status.queued, -1);
    queue.enqueue(again);
    events.writeStatusFile(again);
    events.status(again);
    schedule();
    return again;
  }

  Job stop(Job j) {
    if (j.is(Job.Status.queued)) {
      queue.unqueue(j);
      j.moveTo(Job.Status.stopped);
      events.status(j);
      released(j);
      return j;
    }
    if (!j.active()) {
      throw new ReplyError(
          ReplyError.CONFLICT, "job " + j.id + " is " + j.status() + ", nothing to stop");
    }
    j.stopRequested = true;
    Trainer t = j.trainer;
    if (t != null) {
      t.stop();
    }
    return j;
  }

  JsonObject delete(Job j) {
    if (j.active()) {
      throw new ReplyError(
          ReplyError.CONFLICT, "job " + j.id + " is " + j.status() + "; stop it before deleting");
    }
    changed.accept(j);
    if (Files.exists(j.runDir)) {
      try (Stream<Path> files = Files.walk(j.runDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        // The reply goes to clients: name the job, not the server's paths (the log has them).
        System.getLogger(JobControl.class.getName())
            .log(System.Logger.Level.WARNING, "cannot delete " + j.runDir + ": " + e);
        throw new ReplyError(
            ReplyError.INTERNAL, "cannot delete the files of job " + j.id + "; see the server log");
      }
    }
    queue.remove(j);
    events.deleted(j);
    return new JsonObject().put("id", j.id).put("deleted", true);
  }

  JsonObject set(Job j, String key, double value) {
    if (j.trainer == null || !j.active()) {
      throw new ReplyError(
          ReplyError.CONFLICT,
          "job " + j.id + (j.active() ? " is still starting" : " is not training"));
    }
    if (key == null || !Double.isFinite(value)) {
      throw new ReplyError(
          ReplyError.BAD_REQUEST, "set needs \"key\" (a string) and \"value\" (a finite number)");
    }
    j.trainer.set(key, value);
    return new JsonObject().put("job", j.id).put("key", key).put("value", value);
  }

  /**
   * For a graceful shutdown: marks every running or paused job {@code interrupted} (status.json
   * too, so the next server can resume it even if its trainer does not stop in time) and stops
   * every trainer. Queued jobs stay queued (their status.json says so): the next server queues them
   * again.
   */
  void interruptAll() {
    shuttingDown = true;
    for (Job j : queue.all()) {
      if (j.is(Job.Status.running) || j.is(Job.Status.paused)) {
        j.moveTo(Job.Status.interrupted);
        events.writeStatusFile(j);
        events.status(j);
      }
      j.stopRequested = true;
      Trainer t = j.trainer;
      if (t != null) {
        t.stop();
      }
    }
  }
}
