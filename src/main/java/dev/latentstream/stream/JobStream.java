package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * One run of a job as a hub sees it: its status as last reported, its {@link JobHistory} for late
 * joiners, and what goes to live subscribers (loss points since the last flush, the latest
 * diagnostics, the run's warnings). A new id, a resumed run or a failover starts a new one (found
 * by its status, or by a step going back: see {@link JobStreams}).
 *
 * <p>Threads: one per job per hub, on the hub's event loop only.
 */
final class JobStream {

  /** Warnings kept for newcomers to the {@code status} stream. */
  static final int KEPT_WARNINGS = 50;

  final int num;
  private JsonObject status;
  private final JobHistory history;

  /**
   * This stream began while the job was already stepping (a gateway started late, or a new run's
   * steps came before its status): its past is on disk.
   */
  private final boolean joinedMidRun;

  /**
   * A new run found by its steps before its status came (see {@link #newRunFoundByStep}): the next
   * status that starts a new run is this one's own, late.
   */
  private boolean statusToCome;

  /** Points since the last flush, sent to every loss subscriber as one shared message. */
  private Columns pendingLoss = new Columns();

  /** The latest diagnostics, for a newcomer to the {@code diagnostics} stream; null before. */
  private Encoded diagnostics;

  private final ArrayDeque<Encoded> warnings = new ArrayDeque<>();

  /** The latest latent frame with a plane range, and its {@code plane} message once encoded. */
  private FrameMessage planeFrame;

  private Encoded planeMessage;

  /** Until when the trainer said it has no time for interactive requests (nanoTime), or 0. */
  private long trainerBusyUntilNanos;

  /** Set once the run directory has been read (or found to hold nothing this stream lacks). */
  private Future<Void> pastLoaded;

  JobStream(int num, JsonObject status, boolean joinedMidRun) {
    this.num = num;
    this.status = status;
    this.joinedMidRun = joinedMidRun;
    this.history = new JobHistory(num, status.getString("id"));
  }

  /**
   * A stream for {@code job}, which this hub meets for the first time when {@code firstSeen}: if
   * the job is already past its first step, this stream joined mid-run and its past is on disk.
   */
  static JobStream of(JsonObject job, boolean firstSeen) {
    boolean midRun =
        firstSeen
            && List.of("running", "paused").contains(job.getString("status"))
            && job.getLong("step", 0L) > Math.max(0L, job.getLong("resumedAtStep", -1L));
    return new JobStream(job.getInteger("num"), job, midRun);
  }

  /**
   * A new run of this job, found by a step at or before the last one this stream holds: a run that
   * continues from a checkpoint (a failover, a resume) whose status has not reached this hub yet.
   * It keeps this run's status until its own comes ({@link #statusCame}); its past is on disk.
   */
  JobStream newRunFoundByStep() {
    JobStream next = new JobStream(num, status, true);
    next.statusToCome = true;
    return next;
  }

  /** A new run found by its steps, whose status has not come yet. */
  boolean statusToCome() {
    return statusToCome;
  }

  /** The status of the run {@link #newRunFoundByStep} found has come. */
  void statusCame(JsonObject job) {
    this.status = job;
    statusToCome = false;
  }

  JsonObject status() {
    return status;
  }

  /** The trainer reported a new status for this same run. */
  void status(JsonObject job) {
    this.status = job;
  }

  JobHistory history() {
    return history;
  }

  String id() {
    return status.getString("id");
  }

  String state() {
    return status.getString("status");
  }

  boolean active() {
    return List.of("queued", "running", "paused").contains(state());
  }

  /** The checkpoint step this run continues from, or -1 for a fresh run. */
  long resumedAtStep() {
    return status.getLong("resumedAtStep", -1L);
  }

  /** Times another trainer node took the job over. */
  int failovers() {
    return status.getInteger("failovers", 0);
  }

  boolean joinedMidRun() {
    return joinedMidRun;
  }

  /**
   * Its past is in the run directory, to be read at its first step (resumed, failed over, late).
   */
  boolean pastOnDisk() {
    return resumedAtStep() >= 0 || joinedMidRun || failovers() > 0;
  }

  /** A loss point: into the history, and into the next live batch. */
  void addStep(long step, int epoch, long timeMillis, Map<String, Double> terms) {
    history.addStep(step, epoch, timeMillis, terms);
    pendingLoss.add(step, epoch, timeMillis, terms);
  }

  /** The points since the last call, or null when there are none. */
  Columns takePendingLoss() {
    if (pendingLoss.isEmpty()) {
      return null;
    }
    Columns batch = pendingLoss;
    pendingLoss = new Columns();
    return batch;
  }

  void addFrame(FrameMessage m, int keep) {
    history.addFrame(m, keep);
    if (m.frame().plane() != null) {
      planeFrame = m;
      planeMessage = null;
    }
  }

  Encoded diagnostics() {
    return diagnostics;
  }

  void diagnostics(Encoded latest) {
    diagnostics = latest;
  }

  /** The run's warnings so far, the latest {@link #KEPT_WARNINGS}. */
  Iterable<Encoded> warnings() {
    return warnings;
  }

  void warn(Encoded warning) {
    warnings.addLast(warning);
    while (warnings.size() > KEPT_WARNINGS) {
      warnings.removeFirst();
    }
  }

  /** How long the trainer said it has no time for interactive requests, from now; 0 if it has. */
  long trainerBusyForMs(long nowNanos) {
    return trainerBusyUntilNanos == 0 ? 0 : (trainerBusyUntilNanos - nowNanos) / 1_000_000;
  }

  /** The trainer refused an interactive request: it has time again in {@code retryAfterMs}. */
  void trainerBusy(long retryAfterMs, long nowNanos) {
    trainerBusyUntilNanos = Math.max(trainerBusyUntilNanos, nowNanos + retryAfterMs * 1_000_000);
  }

  /** The reading of the run directory, once started (see {@link HistoryLoader}); or null. */
  Future<Void> pastLoaded() {
    return pastLoaded;
  }

  void pastLoading(Future<Void> reading) {
    pastLoaded = reading;
  }

  /**
   * The {@code plane} message to send before {@code m}, encoded once; null for other frames and
   * frames from disk.
   */
  Encoded planeMessage(FrameMessage m) {
    if (m.frame().plane() == null) {
      return null;
    }
    Encoded e = m == planeFrame ? planeMessage : null;
    if (e == null) {
      e =
          Encoded.of(
              new ServerMessage.Plane(num, m.frame().step(), m.frame().plane(), m.frame().axes()));
      if (m == planeFrame) {
        planeMessage = e;
      }
    }
    return e;
  }
}
