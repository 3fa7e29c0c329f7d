package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.Stream;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A hub's jobs, kept up to date from the trainer's events: one {@link JobStream} per job, replaced
 * by a fresh one when the job's run changes (a new id, a resumed run, a failover to another trainer
 * node), and what each event sends to clients through the {@link FanOut}.
 *
 * <p>A new run is found by its status, or by its first step when that is at or before the last step
 * the stream holds. A trainer node publishes a job's events in order, but on a cluster nothing
 * orders what two nodes send (the old owner's last steps, the new owner's first), nor this
 * gateway's own {@code unreachable} statuses against theirs. A step going back is never sent live:
 * it starts a new stream whose history is read from the run directory up to that step (the new
 * owner has rewritten metrics.csv up to its checkpoint before its first step), and the run's
 * status, when it comes, is that stream's own rather than the start of yet another ({@link
 * #status}), so the steps it has held since (not all on disk yet) are not lost. Each step reaches a
 * viewer once: history, then live.
 *
 * <p>Threads: one per {@link StreamHub}, on the hub's event loop; every method is called there.
 */
final class JobStreams {

  private final ServerConfig config;
  private final FanOut fanOut;
  private final HistoryLoader loader;
  private final Map<Integer, JobStream> jobs = new LinkedHashMap<>();

  JobStreams(ServerConfig config, FanOut fanOut, HistoryLoader loader) {
    this.config = config;
    this.fanOut = fanOut;
    this.loader = loader;
  }

  /** The job's stream, or null. */
  JobStream job(int num) {
    return jobs.get(num);
  }

  /** The stream of the job with this id, or null. */
  JobStream byId(String id) {
    return jobs.values().stream().filter(j -> id.equals(j.id())).findFirst().orElse(null);
  }

  /** Whether {@code js} is still its job's stream (a resumed run replaces it). */
  boolean isCurrent(JobStream js) {
    return jobs.get(js.num) == js;
  }

  /** Every job's status, as last reported, in the order the jobs became known. */
  List<JsonObject> statuses() {
    return jobs.values().stream().map(JobStream::status).toList();
  }

  /** The {@code plane} message to send just before a latent frame of the job (null for none). */
  Encoded planeMessage(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    return js == null ? null : js.planeMessage(m);
  }

  void onEvent(TrainerEvent event) {
    JobStream js = jobs.get(event.job());
    if (js == null && !(event instanceof TrainerEvent.Status)) {
      return; // a job deleted while its last events were in flight
    }
    switch (event) {
      case TrainerEvent.Status s -> status(s.status());
      case TrainerEvent.Step s -> {
        if (js.history().hasLoss() && s.step() <= js.history().lastStep()) {
          // A new run from a checkpoint whose status has not come yet: never live after the old.
          js = replace(js, js.newRunFoundByStep());
          fanOut.awaitHistory(js.num);
        }
        boolean first = !js.history().hasLoss();
        js.addStep(s.step(), s.epoch(), s.timeMillis(), s.terms());
        if (first && js.pastOnDisk()) {
          pastAtFirstStep(js);
        }
      }
      case TrainerEvent.Epoch e -> {
        js.history().addTest(e.result().epoch(), e.result().step(), e.result().testLoss());
        flushLoss();
        fanOut.broadcast(js.num, Stream.loss, new ServerMessage.Event(e));
      }
      case TrainerEvent.Setting e -> {
        var c = e.change();
        js.history().addSetting(c.step(), c.epoch(), c.key(), c.value());
        fanOut.broadcast(js.num, Stream.loss, new ServerMessage.Event(e));
      }
      case TrainerEvent.Log e ->
          fanOut.broadcast(js.num, Stream.status, new ServerMessage.Event(e));
      case TrainerEvent.Diagnostics d -> {
        js.diagnostics(Encoded.of(new ServerMessage.Event(d)));
        fanOut.toLive(js.num, Stream.diagnostics, js.diagnostics());
      }
      case TrainerEvent.Warning w -> {
        Encoded text = Encoded.of(new ServerMessage.Event(w));
        js.warn(text);
        fanOut.toLive(js.num, Stream.status, text);
      }
      case TrainerEvent.Deleted e -> {
        jobs.remove(js.num);
        fanOut.deleted(js.num, Encoded.of(new ServerMessage.Event(e)));
      }
    }
  }

  void onFrame(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    if (js != null) {
      js.addFrame(m, config.frameHistory());
      fanOut.frame(m);
    }
  }

  /**
   * Sends each job's new loss points; a viewer they would not continue gets a fresh history
   * instead.
   */
  void flushLoss() {
    fanOut.flushLoss(jobs.values()).forEach(this::freshHistory);
  }

  /**
   * Sends the job's current stream's history to the sessions waiting for it, once its past is read
   * (a past still to be read at its first step brings the history then).
   */
  private void freshHistory(JobStream js) {
    if (js.pastLoaded() == null && js.pastOnDisk()) {
      return;
    }
    loader
        .loadPast(js)
        .onComplete(
            v -> {
              if (isCurrent(js)) {
                loader.sendHistory(js);
              }
            });
  }

  /**
   * The first step of a run whose past is on disk: the run has opened its metrics.csv (kept rows
   * first), so the rows before the checkpoint are safe to read now. Loss subscribers' charts
   * restart from the checkpoint with a fresh history.
   */
  private void pastAtFirstStep(JobStream js) {
    loader
        .loadPast(js)
        .onComplete(
            v -> {
              if (isCurrent(js)) {
                flushLoss();
                if (fanOut.awaitHistory(js.num)) {
                  loader.sendHistory(js);
                }
              }
            });
  }

  /**
   * A job object changed. A new id, or a resumed run of the same job, starts a fresh stream, unless
   * that run's steps came first and started it already ({@link JobStream#statusToCome}).
   */
  void status(JsonObject job) {
    int num = job.getInteger("num");
    JobStream js = jobs.get(num);
    boolean sameId = js != null && job.getString("id").equals(js.id());
    boolean failedOver = js != null && job.getInteger("failovers", 0) != js.failovers();
    boolean newRun =
        !sameId
            || job.getLong("resumedAtStep", -1L) != js.resumedAtStep()
            // Taken over by another trainer node: a new run of the job, from its checkpoint.
            || failedOver;
    if (newRun && sameId && "unreachable".equals(job.getString("status"))) {
      // The gateway's own mark (gateway.TrainerWatch): a copy of the last status it had, naming an
      // older run than the one this stream already follows (a failover's status came first). It
      // says that run's node went silent, not that a new run began: the newer run stands.
      return;
    }
    if (newRun && sameId && js.statusToCome()) {
      js.statusCame(job);
    } else if (newRun) {
      // A gateway that starts (or restarts) while the job runs reads what it missed from the run
      // directory at the job's next step, like a resumed run.
      JobStream next = JobStream.of(job, js == null);
      if (js == null) {
        jobs.put(num, next);
      } else {
        replace(js, next);
      }
      if (failedOver) {
        // Another trainer node continues from its checkpoint, before steps viewers have: their
        // live loss waits for the fresh history (sent at its first step).
        fanOut.awaitHistory(num);
      }
    } else {
      js.status(job);
    }
    // Every client sees every job's status, so run lists stay live without subscribing.
    fanOut.toAll(Encoded.of(new ServerMessage.Status(job)));
  }

  /** The old run's points not yet sent go out live first; then {@code next} is the job's stream. */
  private JobStream replace(JobStream old, JobStream next) {
    boolean owed = !fanOut.flushLoss(List.of(old)).isEmpty();
    jobs.put(next.num, next);
    if (owed) {
      freshHistory(next);
    }
    return next;
  }
}
