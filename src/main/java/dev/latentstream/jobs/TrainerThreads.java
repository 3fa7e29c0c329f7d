package dev.latentstream.jobs;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.rundir.RunFence;
import dev.latentstream.rundir.RunLock;
import dev.latentstream.runformat.WriteFence;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Threads;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One dedicated platform thread per running job: it loads the data set, builds the {@link Trainer}
 * and runs it, then hands the {@link RunSummary} back to the trainer verticle's context. Threads:
 * {@link #launch} and {@link #joinAll} run on that context; the list of live threads is shared with
 * the trainer threads.
 */
final class TrainerThreads {

  /** The trainer thread's niceness in a process that also serves viewers (0 normal, 19 lowest). */
  static final int TRAINER_NICENESS = 10;

  private final Vertx vertx;
  private final Context context;
  private final ServerConfig config;
  private final FrameRenderer renderer;
  private final JobEvents events;

  /** A job's {@code movedTo} when its trainer ended because its lease went unconfirmed. */
  static final String UNCONFIRMED = "(unconfirmed)";

  /** The failover group's leases on a cluster (see {@link Leases}), else null. */
  private volatile Leases leases;

  /** Trainer threads still running, joined on undeploy. */
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  TrainerThreads(
      Vertx vertx, Context context, ServerConfig config, FrameRenderer renderer, JobEvents events) {
    this.vertx = vertx;
    this.context = context;
    this.config = config;
    this.renderer = renderer;
    this.events = events;
  }

  void useLeases(Leases leases) {
    this.leases = leases;
  }

  /**
   * Starts {@code j}'s trainer (the job is already {@code running}); {@code finished} runs on the
   * verticle's context when it ends. If the context is gone (the server is shutting down), the
   * job's status file is written from the trainer thread instead.
   */
  void launch(Job j, BiConsumer<Job, RunSummary> finished) {
    threads.add(
        Thread.ofPlatform()
            .name("trainer-" + j.id)
            .daemon(true)
            .start(
                () -> {
                  RunSummary s = train(j);
                  try {
                    context.runOnContext(v -> finished.accept(j, s));
                  } catch (RejectedExecutionException closing) {
                    events.writeStatusFile(j);
                  }
                  threads.remove(Thread.currentThread());
                }));
  }

  private RunSummary train(Job j) {
    if (config.role().runsGateway()) {
      // The event loops in this process answer first; training takes every cycle they leave.
      Threads.lowerPriority(TRAINER_NICENESS);
    }
    try {
      Dataset data =
          Datasets.ensure(j.spec.dataset(), config.dataDir(), line -> events.log(j, line));
      if (j.stopRequested) {
        return new RunSummary(
            RunSummary.Status.STOPPED, j.epoch, j.step, j.testLoss, Double.NaN, null);
      }
      Files.createDirectories(j.runDir);
      // One process trains a run: a headless train --resume on it holds the lock, and this job
      // fails with that process named instead of writing into the same files.
      try (RunLock lock = lock(j)) {
        return train(j, data);
      }
    } catch (IOException | RuntimeException e) {
      return failed(j, e);
    }
  }

  /**
   * The run's lock, or null when a fenced node of the failover group holds it. A job taken over
   * from another node of the group may still be locked by that node's process: for a moment when it
   * is letting go, for as long as it is frozen (SIGSTOP, a long pause) otherwise. This waits while
   * the lease is this node's, and after {@link #LET_GO_MS} trains without the lock when its holder
   * writes through the run's {@link RunFence} (which this node took from it, so it can write
   * nothing more); a holder that is not fenced (a headless {@code train}) is waited for.
   */
  private RunLock lock(Job j) {
    Leases l = leases;
    long said = 0;
    long since = System.nanoTime();
    while (true) {
      try {
        return RunLock.acquire(j.runDir, l == null ? HOLDER : HOLDER + ", " + RunLock.FENCED);
      } catch (RunLock.HeldException e) {
        // Held, even if not confirmed this instant (a cluster busy with a member that left): the
        // fence checks it again before anything is written.
        if (l == null || l.held(j.id) == null || l.lostTo(j.id) != null || j.stopRequested) {
          throw e;
        }
        if (said++ == 0) {
          events.log(j, e.getMessage() + "; waiting for it to let go");
        }
        if (e.holder().contains(RunLock.FENCED)
            && l.fence(j.id) != null
            && System.nanoTime() - since > LET_GO_MS * 1_000_000L) {
          String line =
              "job "
                  + j.id
                  + ": the node holding its "
                  + RunLock.FILE
                  + " ("
                  + e.holder()
                  + ") has not let go for "
                  + LET_GO_MS / 1000
                  + " s: training without it, its writes fenced off by "
                  + RunFence.FILE;
          LOG.log(System.Logger.Level.WARNING, line);
          events.log(j, line);
          return null;
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private static final String HOLDER = "latentstream serve";

  private static final System.Logger LOG = System.getLogger(TrainerThreads.class.getName());

  /** How long a node that took a job over waits for the former owner's run lock. */
  static final long LET_GO_MS = 3000;

  private RunSummary train(Job j, Dataset data) throws IOException {
    Leases l = leases;
    WriteFence writes = WriteFence.NONE;
    if (l != null) {
      writes = l.fence(j.id);
      if (writes == null) {
        // Its lease went (or was never made this node's on the disk): nothing is written here.
        j.movedTo = l.lostTo(j.id) != null ? l.lostTo(j.id) : UNCONFIRMED;
        return new RunSummary(
            RunSummary.Status.STOPPED, j.epoch, j.step, j.testLoss, Double.NaN, null);
      }
    }
    TrainingListener listener =
        TrainingListener.compose(
            new RunDirectoryWriter(j.runDir, writes), new EventPublisher(vertx, context, j));
    LeaseFence fence = l == null ? null : new LeaseFence(j, l, listener);
    Checkpoint checkpoint = new Checkpoint(j.runDir, writes);
    Trainer t =
        new Trainer(
            j.spec,
            data,
            fence == null ? checkpoint : fence.guard(checkpoint),
            renderer,
            fence == null ? listener : fence,
            j.resumed());
    t.setCores(config.coresPerJob());
    // Decode, encode and the like take trainer time: all clients together get at most this much.
    t.setInteractiveBudget(config.interactiveMaxQueued(), config.interactiveBudgetMsPerSecond());
    j.trainer = t;
    // Requests made while the dataset loaded (see Job.pauseRequested).
    if (j.pauseRequested) {
      t.pause();
    }
    if (j.stopRequested) {
      t.stop();
    }
    RunSummary s = t.run();
    if (fence != null && fence.lost()) {
      String owner = l.lostTo(j.id) != null ? l.lostTo(j.id) : fence.owner();
      j.movedTo = owner != null ? owner : UNCONFIRMED;
    }
    return s;
  }

  private static RunSummary failed(Job j, Exception e) {
    return new RunSummary(
        RunSummary.Status.FAILED,
        j.epoch,
        j.step,
        j.testLoss,
        Double.NaN,
        e instanceof UncheckedIOException u
            ? u.getCause().getMessage()
            : String.valueOf(e.getMessage()));
  }

  /**
   * Waits (the caller is a worker) up to {@code seconds} in all for every trainer thread to end.
   */
  void joinAll(int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
