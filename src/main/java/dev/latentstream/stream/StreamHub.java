package dev.latentstream.stream;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the trainer's events into what WebSocket clients see: one {@link JobStream} per job (its
 * status, its {@link JobHistory} for late joiners, what goes live), sent through a {@link FanOut}.
 * Past runs come from the run directory through a {@link HistoryLoader}; what clients ask for is
 * answered by its {@link ClientRequests}.
 *
 * <p>Threads: one hub per HTTP verticle instance, on that verticle's event loop; every method is
 * called there. Trainer traffic arrives over the event bus (from another JVM on a cluster).
 */
public final class StreamHub {

  /** How often waiting frames are looked at: well inside the shortest frame interval. */
  static final long FRAME_TICK_MS = 20;

  private final Vertx vertx;
  private final ServerConfig config;

  /** Where commands go: the node that owns the job. */
  private final TrainerRoutes routes;

  private final Map<Integer, JobStream> jobs = new LinkedHashMap<>();
  private final StreamCounters counters = new StreamCounters();
  private final FanOut fanOut;
  private final HistoryLoader loader;
  private final ClientRequests requests;
  private long lossTicks;

  /**
   * {@link #stats()} key prefix of the interactive requests received, by type: {@code
   * modelRequests.decode}, ...
   */
  public static final String MODEL_REQUESTS_PREFIX = "modelRequests.";

  /** What {@link #frameAt} found for a job, a frame kind and a step. */
  public sealed interface FrameLookup {
    /** The kept frame nearest at or before the step (the latest when no step was given). */
    record Found(FrameMessage frame) implements FrameLookup {}

    /** The job is known, but no frame of the kind is kept at or before the step. */
    record NoneKept() implements FrameLookup {}

    record UnknownJob() implements FrameLookup {}
  }

  public StreamHub(Vertx vertx, ServerConfig config, TrainerRoutes routes) {
    this.vertx = vertx;
    this.config = config;
    this.routes = routes;
    this.fanOut = new FanOut(config, counters);
    this.loader =
        new HistoryLoader(vertx, config, routes, fanOut, counters, js -> jobs.get(js.num) == js);
    this.requests = new ClientRequests(this, config, routes, counters);
  }

  public Future<Void> start() {
    // consumer, not localConsumer: on a cluster the trainer publishes from another JVM.
    vertx.eventBus().<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx.eventBus().<FrameMessage>consumer(Addresses.FROM_TRAINER_FRAMES, m -> onFrame(m.body()));
    vertx.setPeriodic(
        config.lossBatchMs(),
        id -> {
          // Many viewers: fewer, larger loss messages (every point still arrives).
          if (++lossTicks % fanOut.lossBatchTicks() == 0) {
            flushLoss();
          }
        });
    vertx.setPeriodic(
        Math.max(50, config.slowClientTimeoutMs() / 4), id -> fanOut.closeSlowClients());
    vertx.setPeriodic(FRAME_TICK_MS, id -> fanOut.sendWaitingFrames());
    // A gateway may start before any trainer node: it then learns the jobs when one appears
    // (TrainerWatch).
    return routes
        .request(new TrainerCommand.ListJobs())
        .map(
            list -> {
              list.getJsonArray("jobs").forEach(j -> status((JsonObject) j));
              return (Void) null;
            })
        .recover(noTrainerYet -> Future.succeededFuture());
  }

  /**
   * Every job this gateway knows, as last reported (including {@code unreachable} ones whose
   * trainer node is gone): answered from memory, never waiting on a trainer.
   */
  public JsonArray jobStatuses() {
    return new JsonArray(statuses());
  }

  private List<JsonObject> statuses() {
    return jobs.values().stream().map(JobStream::status).toList();
  }

  /** Connected clients and what back-pressure and the history cache have done so far. */
  public JsonObject stats() {
    return counters.toJson(fanOut.size());
  }

  /**
   * The kept frame of a job at or before {@code step} (the latest when null), none kept, or an
   * unknown job.
   */
  public Future<FrameLookup> frameAt(String jobId, FrameKind kind, Long step) {
    JobStream js = byId(jobId);
    if (js == null) {
      return Future.succeededFuture(new FrameLookup.UnknownJob());
    }
    JobHistory h = js.history();
    return loadPast(js)
        .map(
            v -> {
              FrameMessage m = step == null ? h.latest(kind) : h.frameAt(kind, step);
              return m == null ? new FrameLookup.NoneKept() : new FrameLookup.Found(m);
            });
  }

  /** The steps of the frames kept for scrubbing, per stream ({@code {}} for an unknown job). */
  public Future<JsonObject> frameIndex(String jobId) {
    JobStream js = byId(jobId);
    return js == null
        ? Future.succeededFuture(new JsonObject())
        : loadPast(js).map(v -> js.history().frameIndex());
  }

  /** The job's stream, or null. */
  JobStream job(int num) {
    return jobs.get(num);
  }

  JobStream byId(String id) {
    return jobs.values().stream().filter(j -> id.equals(j.id())).findFirst().orElse(null);
  }

  // --- trainer events -------------------------------------------------------------------------

  private void onEvent(TrainerEvent event) {
    JobStream js = jobs.get(event.job());
    if (js == null && !(event instanceof TrainerEvent.Status)) {
      return; // a job deleted while its last events were in flight
    }
    switch (event) {
      case TrainerEvent.Status s -> status(s.status());
      case TrainerEvent.Step s -> {
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

  /**
   * The first step of a run whose past is on disk: the run has opened its metrics.csv (kept rows
   * first), so the rows before the checkpoint are safe to read now. Loss subscribers' charts
   * restart from the checkpoint with a fresh history.
   */
  private void pastAtFirstStep(JobStream js) {
    loadPast(js)
        .onComplete(
            v -> {
              if (jobs.get(js.num) == js) {
                flushLoss();
                if (fanOut.awaitHistory(js.num)) {
                  requestHistory(js);
                }
              }
            });
  }

  /** A job object changed. A new id, or a resumed run of the same job, starts a fresh stream. */
  private void status(JsonObject job) {
    int num = job.getInteger("num");
    JobStream js = jobs.get(num);
    boolean failedOver = js != null && job.getInteger("failovers", 0) != js.failovers();
    if (js == null
        || !job.getString("id").equals(js.id())
        || job.getLong("resumedAtStep", -1L) != js.resumedAtStep()
        // Taken over by another trainer node: a new run of the job, from its checkpoint.
        || failedOver) {
      // A gateway that starts (or restarts) while the job runs reads what it missed from the run
      // directory at the job's next step, like a resumed run.
      jobs.put(num, JobStream.of(job, js == null));
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

  private void onFrame(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    if (js != null) {
      js.addFrame(m, config.frameHistory());
      fanOut.frame(m);
    }
  }

  private void flushLoss() {
    fanOut.flushLoss(jobs.values());
  }

  // --- history for newcomers -------------------------------------------------------------------

  /** See {@link HistoryLoader#loadPast}. */
  Future<Void> loadPast(JobStream js) {
    return loader.loadPast(js);
  }

  /** See {@link HistoryLoader#sendHistory}. */
  void requestHistory(JobStream js) {
    loader.sendHistory(js);
  }

  // --- clients --------------------------------------------------------------------------------

  /**
   * Takes over a new WebSocket; {@code onClose} runs when it closes (the HTTP side's bookkeeping).
   */
  public void attach(ServerWebSocket ws, boolean authorized, Runnable onClose) {
    ClientSession s = fanOut.add(ws, authorized, this::planeMessage, onClose);
    // Frames, not messages: Vert.x would decode invalid UTF-8 leniently and count the limit in
    // characters.
    ws.frameHandler(requests.frames(s)::accept);
    s.send(new ServerMessage.Welcome(authorized, statuses()));
  }

  /** Forgets the session now (no more writes to it) and closes its socket. */
  void close(ClientSession s, short code, String reason) {
    fanOut.close(s, code, reason);
  }

  private Encoded planeMessage(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    return js == null ? null : js.planeMessage(m);
  }
}
