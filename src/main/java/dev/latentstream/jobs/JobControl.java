package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;

/**
 * What a user (or a shutdown) does to jobs: queue, pause, resume, stop, delete, change a setting.
 * Each step moves the {@link Job} through its life cycle, tells the viewers ({@link JobEvents}) and
 * launches what the {@link JobQueue} says has a slot. Run directories are {@link RunDirectories}';
 * what the failover group does to jobs is {@link Handover}'s. Threads: runs on the trainer
 * verticle's context only.
 */
final class JobControl {

  private final RunDirectories runDirs;
  private final JobQueue queue;
  private final TrainerThreads threads;
  private final JobEvents events;
  private final Handover handover;

  /**
   * Told of a run that trains again or is deleted: its explored model (see ModelRequests) must go.
   */
  private final Consumer<Job> changed;

  private boolean shuttingDown;

  JobControl(
      RunDirectories runDirs,
      JobQueue queue,
      TrainerThreads threads,
      JobEvents events,
      Consumer<Job> changed) {
    this.runDirs = runDirs;
    this.changed = changed;
    this.queue = queue;
    this.threads = threads;
    this.events = events;
    this.handover = new Handover(queue, events, changed, this);
  }

  /**
   * Queues a new job numbered {@code num} under the id {@code id} (see {@link
   * RunDirectories#idFor}), a member of the sweep {@code sweep} (null: none); the caller then
   * launches it ({@link #schedule}).
   */
  Job enqueue(JobConfig spec, int num, String id, String sweep) {
    // The run exists from now on, under its id and number: a restarted server finds it queued.
    Job j = runDirs.create(spec, num, id, sweep, handover.node());
    events.writeStatusFile(j);
    queue.enqueue(j);
    events.status(j);
    return j;
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
      handover.moved(j);
      schedule();
      return;
    }
    j.finished(s);
    events.writeStatusFile(j);
    events.status(j);
    handover.released(j);
    schedule();
  }

  void useLeases(Leases leases, String node) {
    handover.useLeases(leases, node);
  }

  /** See {@link Handover#lostLease}. */
  void lostLease(Job j, String owner) {
    handover.lostLease(j, owner);
  }

  /** See {@link Handover#adopt}. */
  Job adopt(Job was, String from, boolean wasPaused) {
    return handover.adopt(was, from, wasPaused);
  }

  /** See {@link Handover#listFound}. */
  void listFound(Job j) {
    handover.listFound(j);
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
  Job setPaused(Job j, boolean paused) {
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
    again.node = handover.node();
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
      handover.released(j);
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
    runDirs.delete(j);
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
