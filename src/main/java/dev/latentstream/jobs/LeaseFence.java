package dev.latentstream.jobs;

import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.SettingChange;

/**
 * Fences a job's writes with its lease ({@link Leases}): every event reaches the run directory and
 * the viewers only while this node trusts its lease. While the lease is unconfirmed (the cluster is
 * slow to answer), the trainer thread waits here before it writes; once another node holds it, the
 * run ends with {@link Lost} and nothing more is written, its end neither. Before each checkpoint
 * the run directory's owner record must name this node's token too, which holds on a shared disk
 * even when the cluster split. Runs on the trainer thread, like every listener.
 */
final class LeaseFence implements TrainingListener {

  /** The job's lease is another node's: this node must not write for it any more. */
  static final class Lost extends RuntimeException {
    Lost(String message) {
      super(message);
    }
  }

  private static final System.Logger LOG = System.getLogger(LeaseFence.class.getName());

  /**
   * Unconfirmed this long after its trust ended, a lease may be another node's: its node entry
   * expired ({@link Leases#NODE_TTL_MS} after the renewal that began the trust) some seconds ago.
   */
  static final long GIVE_UP_MS = Leases.NODE_TTL_MS;

  private final Job job;
  private final Leases leases;
  private final TrainingListener inner;
  private volatile boolean lost;

  LeaseFence(Job job, Leases leases, TrainingListener inner) {
    this.job = job;
    this.leases = leases;
    this.inner = inner;
  }

  /**
   * Returns once the lease is trusted; throws {@link Lost} if another node has it, or if the job is
   * to stop while it cannot be confirmed (nothing may be written then, a stop checkpoint neither).
   */
  void check() {
    boolean said = false;
    while (!leases.valid(job.id)) {
      String owner = leases.lostTo(job.id);
      if (owner != null || leases.held(job.id) == null) {
        throw lose(
            "node " + (owner == null ? "(unknown)" : owner) + " owns job " + job.id + " now");
      }
      if (job.stopRequested) {
        throw lose("the lease of job " + job.id + " cannot be confirmed; stopping without writing");
      }
      if (leases.unconfirmedMillis() > GIVE_UP_MS) {
        // Long enough for another node to have taken the job over: this trainer ends without a
        // write and lets go of the run (its lock too, which the new owner waits for). Should the
        // lease prove to be still this node's, Failover takes the job up again.
        throw lose(
            "the lease of job "
                + job.id
                + " could not be confirmed for "
                + leases.unconfirmedMillis() / 1000
                + " s; another node may own it now, so this node stops training it");
      }
      if (!said) {
        LOG.log(
            System.Logger.Level.WARNING,
            "job " + job.id + " waits: this node cannot confirm its lease with the cluster");
        said = true;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw lose("interrupted while the lease of job " + job.id + " was unconfirmed");
      }
    }
  }

  private Lost lose(String why) {
    lost = true;
    return new Lost(why);
  }

  @Override
  public void onStart(RunStart start) {
    check();
    inner.onStart(start);
  }

  @Override
  public void onStep(StepMetrics step) {
    check();
    inner.onStep(step);
  }

  @Override
  public void onEpoch(EpochResult epoch) {
    check();
    inner.onEpoch(epoch);
  }

  @Override
  public void onFrame(Frame frame) {
    check();
    inner.onFrame(frame);
  }

  @Override
  public void onSettingChanged(SettingChange change) {
    check();
    inner.onSettingChanged(change);
  }

  @Override
  public void onDiagnostics(Diagnostics diagnostics) {
    check();
    inner.onDiagnostics(diagnostics);
  }

  @Override
  public void onWarning(Warning warning) {
    check();
    inner.onWarning(warning);
  }

  @Override
  public void onCheckpointing(long step) {
    check();
    Leases.Lease mine = leases.held(job.id);
    long onDisk = Leases.ownerToken(job.runDir);
    if (mine == null || onDisk != mine.token()) {
      throw lose(
          "the run directory of job "
              + job.id
              + " names another owner ("
              + Leases.ownerName(job.runDir)
              + "); no checkpoint is written here");
    }
    inner.onCheckpointing(step);
  }

  @Override
  public void onFinished(RunSummary summary) {
    if (lost || leases.lostTo(job.id) != null) {
      return; // the run is another node's: its files are that node's to finish
    }
    inner.onFinished(summary);
  }

  boolean lost() {
    return lost;
  }
}
