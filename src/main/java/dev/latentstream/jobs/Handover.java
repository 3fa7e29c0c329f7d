package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.rundir.Checkpoint;
import java.util.function.Consumer;

/**
 * What the failover group does to this node's jobs (see {@link Failover}): takes up a job whose
 * node went away, lets go of one whose lease another node holds now, lists runs other nodes
 * finished, and gives back the lease of a job that ended here (off a cluster it holds no leases,
 * and {@link #released} does nothing). Threads: the trainer verticle's context, as {@link
 * JobControl}, which owns it and whose scheduling it uses.
 */
final class Handover {

  private static final System.Logger LOG = System.getLogger(Handover.class.getName());

  private final JobQueue queue;
  private final JobEvents events;
  private final JobControl control;

  /** Told of a run that trains again here: its explored model (see ModelRequests) must go. */
  private final Consumer<Job> changed;

  /** The failover group's leases on a cluster, else null (see {@link Leases}). */
  private Leases leases;

  /** This trainer node's name (host:cluster port) on a cluster, else null. */
  private String node;

  Handover(JobQueue queue, JobEvents events, Consumer<Job> changed, JobControl control) {
    this.queue = queue;
    this.events = events;
    this.changed = changed;
    this.control = control;
  }

  void useLeases(Leases leases, String node) {
    this.leases = leases;
    this.node = node;
  }

  /** This trainer node's name on a cluster, else null. */
  String node() {
    return node;
  }

  /** A job that ended here gives its lease back; one a shutdown interrupted keeps it. */
  void released(Job j) {
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

  /** Forgets a job another node owns now, once no trainer of this node runs it. */
  void moved(Job j) {
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
    control.schedule();
    if (wasPaused && again.is(Job.Status.running)) {
      control.setPaused(again, true);
    }
    return again;
  }

  /** A finished run found on the disk (another node of the group ran it): listed as it ended. */
  void listFound(Job j) {
    queue.list(j);
    events.status(j);
  }
}
