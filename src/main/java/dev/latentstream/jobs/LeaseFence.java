package dev.latentstream.jobs;

import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.optim.Optim;
import dev.latentstream.rundir.RunFence;
import dev.latentstream.train.CheckpointStore;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.SettingChange;
import java.util.List;
import org.bytedeco.pytorch.Module;

/**
 * Fences a job's writes with its lease ({@link Leases}): every event reaches the run directory and
 * the viewers only while this node trusts its lease. While the lease is unconfirmed (the cluster is
 * slow to answer), the trainer thread waits here before it writes; once another node holds it, the
 * run ends with {@link Lost} and nothing more is written, its end neither. The writes themselves go
 * through the run directory's {@link RunFence}, which refuses them once another node took the run
 * over (a node frozen between this check and its write, or a split cluster); a refusal ends the run
 * as lost too. Runs on the trainer thread, like every listener.
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
  private volatile String owner;

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
    if (!lost) {
      LOG.log(System.Logger.Level.WARNING, why);
    }
    lost = true;
    return new Lost(why);
  }

  /**
   * Runs an event's writes; a write the run directory refused ({@link RunFence.Stale}: it names
   * another owner) ends the run as lost, like a lease found taken.
   */
  private void fenced(Runnable write) {
    try {
      write.run();
    } catch (RunFence.Stale s) {
      throw refused(s);
    }
  }

  private Lost refused(RunFence.Stale s) {
    RunFence.Owner o = s.owner();
    if (o != null) {
      owner = o.node();
    }
    return lose(s.getMessage() + "; this node stops training job " + job.id);
  }

  /**
   * {@code store}, with a save the run directory refuses ending the run as lost (its checkpoint,
   * written through the {@link RunFence}, is not put into place).
   */
  CheckpointStore guard(CheckpointStore store) {
    return new CheckpointStore() {
      @Override
      public void save(Module model, List<Optim> optimizers, Progress progress) {
        check();
        fenced(() -> store.save(model, optimizers, progress));
      }

      @Override
      public Progress load(Module model, List<Optim> optimizers) {
        return store.load(model, optimizers);
      }
    };
  }

  @Override
  public void onStart(RunStart start) {
    check();
    fenced(() -> inner.onStart(start));
  }

  @Override
  public void onStep(StepMetrics step) {
    check();
    fenced(() -> inner.onStep(step));
  }

  @Override
  public void onEpoch(EpochResult epoch) {
    check();
    fenced(() -> inner.onEpoch(epoch));
  }

  @Override
  public void onFrame(Frame frame) {
    check();
    fenced(() -> inner.onFrame(frame));
  }

  @Override
  public void onSettingChanged(SettingChange change) {
    check();
    fenced(() -> inner.onSettingChanged(change));
  }

  @Override
  public void onDiagnostics(Diagnostics diagnostics) {
    check();
    fenced(() -> inner.onDiagnostics(diagnostics));
  }

  @Override
  public void onWarning(Warning warning) {
    check();
    fenced(() -> inner.onWarning(warning));
  }

  @Override
  public void onCheckpointing(long step) {
    check();
    fenced(() -> inner.onCheckpointing(step));
  }

  @Override
  public void onFinished(RunSummary summary) {
    if (lost || leases.lostTo(job.id) != null) {
      return; // the run is another node's: its files are that node's to finish
    }
    try {
      inner.onFinished(summary);
    } catch (RunFence.Stale s) {
      refused(s);
    }
  }

  /** The node the run directory named when it refused a write, or null. */
  String owner() {
    return owner;
  }

  boolean lost() {
    return lost;
  }
}
