package dev.latentstream.stream;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Turns the trainer's events into what WebSocket clients see. It wires its parts together and
 * answers the REST side: its {@link JobStreams} keep one {@link JobStream} per job from the
 * trainer's events (its status, its {@link JobHistory} for late joiners, what goes live), sent
 * through a {@link FanOut}; past runs come from the run directory through a {@link HistoryLoader};
 * what clients ask for is answered by its {@link ClientRequests}.
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

  private final StreamCounters counters = new StreamCounters();
  private final FanOut fanOut;
  private final HistoryLoader loader;
  private final JobStreams jobs;
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
    this.loader = new HistoryLoader(vertx, config, routes, fanOut, counters, this::isCurrent);
    this.jobs = new JobStreams(config, fanOut, loader);
    this.requests = new ClientRequests(this, config, routes, counters);
  }

  public Future<Void> start() {
    // consumer, not localConsumer: on a cluster the trainer publishes from another JVM.
    vertx
        .eventBus()
        .<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> jobs.onEvent(m.body()));
    vertx
        .eventBus()
        .<FrameMessage>consumer(Addresses.FROM_TRAINER_FRAMES, m -> jobs.onFrame(m.body()));
    vertx.setPeriodic(
        config.lossBatchMs(),
        id -> {
          // Many viewers: fewer, larger loss messages (every point still arrives).
          if (++lossTicks % fanOut.lossBatchTicks() == 0) {
            jobs.flushLoss();
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
              list.getJsonArray("jobs").forEach(j -> jobs.status((JsonObject) j));
              return (Void) null;
            })
        .recover(noTrainerYet -> Future.succeededFuture());
  }

  /**
   * Every job this gateway knows, as last reported (including {@code unreachable} ones whose
   * trainer node is gone): answered from memory, never waiting on a trainer.
   */
  public JsonArray jobStatuses() {
    return new JsonArray(jobs.statuses());
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
    return jobs.job(num);
  }

  /** The stream of the job with this id, or null. */
  JobStream byId(String id) {
    return jobs.byId(id);
  }

  private boolean isCurrent(JobStream js) {
    return jobs.isCurrent(js);
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
    ClientSession s = fanOut.add(ws, authorized, jobs::planeMessage, onClose);
    // Frames, not messages: Vert.x would decode invalid UTF-8 leniently and count the limit in
    // characters.
    ws.frameHandler(requests.frames(s)::accept);
    s.send(new ServerMessage.Welcome(authorized, jobs.statuses()));
  }

  /** Forgets the session now (no more writes to it) and closes its socket. */
  void close(ClientSession s, short code, String reason) {
    fanOut.close(s, code, reason);
  }
}
