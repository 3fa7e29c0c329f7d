package dev.latentstream.jobs;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A trainer node's leases at every heartbeat: renews them, lets go of each job another node took
 * from this one, and takes up again a job it let go of while its lease went unconfirmed once the
 * lease proves to be still its own. Runs on the trainer verticle's context.
 */
final class LeaseRenewal {

  private static final System.Logger LOG = System.getLogger(LeaseRenewal.class.getName());

  private final Leases leases;
  private final JobQueue queue;
  private final JobControl control;
  private final Path runsDir;
  private final Runnable beat;

  LeaseRenewal(Leases leases, JobQueue queue, JobControl control, Path runsDir, Runnable beat) {
    this.leases = leases;
    this.queue = queue;
    this.control = control;
    this.runsDir = runsDir;
    this.beat = beat;
  }

  /** Renews the leases; a job another node took from this one is let go. */
  void renew() {
    leases
        .renew()
        .onSuccess(
            gone -> {
              for (String id : gone) {
                queue.find(id).ifPresent(j -> control.lostLease(j, leases.lostTo(id)));
              }
              boolean retaken = false;
              for (String id : leases.heldIds()) {
                if (leases.steady() && queue.find(id).isEmpty() && !leases.disk.taking(id)) {
                  retaken |= retake(id);
                }
              }
              if (!gone.isEmpty() || retaken) {
                beat.run();
              }
            });
  }

  /**
   * A job this node let go of when it could not confirm its lease (see LeaseFence), whose lease
   * proved to be still its own: it continues here from its newest whole checkpoint.
   */
  private boolean retake(String id) {
    Path dir = runsDir.resolve(id);
    if (!Files.isRegularFile(dir.resolve("job.json"))) {
      leases.release(id);
      return false;
    }
    Recovery.Found f = Recovery.read(dir);
    Job was = Recovery.job(f, f.num());
    if (was.is(Job.Status.damaged)) {
      queue.list(was);
      leases.release(id);
      return false;
    }
    Lease lease = leases.held(id);
    if (lease == null) {
      return false;
    }
    leases
        .disk
        .confirm(id, dir, lease)
        .onSuccess(
            fence -> {
              if (queue.find(id).isPresent() || leases.held(id) == null) {
                return; // taken up, or lost, meanwhile
              }
              LOG.log(
                  System.Logger.Level.INFO,
                  "the lease of job " + id + " is still this node's: it continues here");
              control.adopt(was, leases.name, "paused".equals(StartupClaims.rawStatus(dir)));
              beat.run();
            })
        .onFailure(
            t -> {
              if (leases.held(id) == lease) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "job " + id + " is not taken up again: " + t.getMessage());
                leases.release(id);
              }
            });
    return false;
  }
}
