package dev.latentstream.stream;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.RemoteRunFiles;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Fans the trainer's events out to WebSocket clients and keeps each job's history for late joiners,
 * including what earlier runs left in the run directory. Lives on one event loop; all trainer
 * traffic arrives over the event bus, and run directories are read on a worker. What clients ask
 * for is answered by its {@link ClientRequests}.
 */
public final class StreamHub {

  private static final System.Logger LOG = System.getLogger(StreamHub.class.getName());

  /**
   * Viewers per hub up to which loss goes out every {@code lossBatchMs}; past it, that many times
   * less often. With the 25 ms default that is at most about 5,000 loss writes a second per event
   * loop, whatever the crowd: 200 viewers on 2 loops see a point within ~15 ms (p50) instead of ~30
   * ms at 50 ms batches, and 1,000 viewers cost the loops what they did with 50 ms and 250.
   */
  static final int VIEWERS_PER_LOSS_BATCH = 125;

  /** How often waiting frames are looked at: well inside the shortest frame interval. */
  static final long FRAME_TICK_MS = 20;

  private final Vertx vertx;
  private final ServerConfig config;

  /** Where commands go: the node that owns the job. */
  private final TrainerRoutes routes;

  private final Map<Integer, JobStream> jobs = new LinkedHashMap<>();
  private final Set<ClientSession> sessions = new HashSet<>();

  /** Sessions with frames waiting for their window or for room. */
  private final Set<ClientSession> framesWaiting = new LinkedHashSet<>();

  private final Counters counters = new Counters();

  /** A run's files from the trainer node, for a gateway that does not share its disk. */
  private final RemoteRunFiles remoteFiles;

  /** The largest run file a gateway reads from a trainer node into memory. */
  static final long MAX_RELAYED_BYTES = 256L << 20;

  private final ClientRequests requests;
  private long lossTicks;

  /** Totals since start, for {@code /api/info}; touched on the hub's event loop only. */
  /**
   * {@link #stats()} key prefix of the interactive requests received, by type: {@code
   * modelRequests.decode}, ...
   */
  public static final String MODEL_REQUESTS_PREFIX = "modelRequests.";

  static final class Counters {
    long framesSent;
    long framesConflated;
    long slowClientsClosed;
    long tooBusyClosed;
    long historiesSent;
    long historyBytesSent;
    long historySnapshots;

    /**
     * Interactive requests clients sent, by type ({@link Protocol#MODEL_REQUESTS}), answered or
     * not: a page that decodes itself sends no {@code decode}.
     */
    final java.util.Map<String, Long> modelRequests = new java.util.TreeMap<>();
  }

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
    this.requests = new ClientRequests(this, config, routes, counters);
    this.remoteFiles = new RemoteRunFiles(routes);
  }

  public Future<Void> start() {
    // consumer, not localConsumer: on a cluster the trainer publishes from another JVM.
    vertx.eventBus().<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx.eventBus().<FrameMessage>consumer(Addresses.FROM_TRAINER_FRAMES, m -> onFrame(m.body()));
    vertx.setPeriodic(
        config.lossBatchMs(),
        id -> {
          // Many viewers: fewer, larger loss messages (every point still arrives), so the writes
          // per second stay
          // about what VIEWERS_PER_LOSS_BATCH viewers cost.
          if (++lossTicks % lossBatchTicks() == 0) {
            flushLoss();
          }
        });
    vertx.setPeriodic(Math.max(50, config.slowClientTimeoutMs() / 4), id -> closeSlowClients());
    // A gateway may start before any trainer node: it then learns the jobs when one appears
    // (TrainerWatch).
    vertx.setPeriodic(FRAME_TICK_MS, id -> sendWaitingFrames());
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
  public io.vertx.core.json.JsonArray jobStatuses() {
    return new io.vertx.core.json.JsonArray(jobs.values().stream().map(j -> j.status).toList());
  }

  /** Connected clients and what back-pressure and the history cache have done so far. */
  public JsonObject stats() {
    JsonObject stats =
        new JsonObject()
            .put("clients", sessions.size())
            .put("framesSent", counters.framesSent)
            .put("framesConflated", counters.framesConflated)
            .put("slowClientsClosed", counters.slowClientsClosed)
            .put("tooBusyClosed", counters.tooBusyClosed)
            .put("historiesSent", counters.historiesSent)
            .put("historyBytesSent", counters.historyBytesSent)
            .put("historySnapshots", counters.historySnapshots);
    for (String op : Protocol.MODEL_REQUESTS) {
      stats.put(MODEL_REQUESTS_PREFIX + op, counters.modelRequests.getOrDefault(op, 0L));
    }
    return stats;
  }

  /**
   * The kept frame of a job nearest at or before {@code step} (the latest when step is null); null
   * when there is none or the job is unknown ({@link #frameAt} tells the two apart).
   */
  public Future<FrameMessage> frame(String jobId, FrameKind kind, Long step) {
    return frameAt(jobId, kind, step).map(r -> r instanceof FrameLookup.Found f ? f.frame() : null);
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
    return loadPast(js)
        .map(
            v -> {
              FrameMessage m = step == null ? js.latest.get(kind) : js.frameAt(kind, step);
              return m == null ? new FrameLookup.NoneKept() : new FrameLookup.Found(m);
            });
  }

  /** The steps of the frames kept for scrubbing, per stream ({@code {}} for an unknown job). */
  public Future<JsonObject> frameIndex(String jobId) {
    JobStream js = byId(jobId);
    return js == null
        ? Future.succeededFuture(new JsonObject())
        : loadPast(js).map(v -> js.frameIndex());
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
        boolean first = js.loss.isEmpty();
        js.loss.add(s.step(), s.epoch(), s.timeMillis(), s.terms());
        js.pendingLoss.add(s.step(), s.epoch(), s.timeMillis(), s.terms());
        if (first
            && (js.resumedAtStep() >= 0
                || js.joinedMidRun
                || js.status.getInteger("failovers", 0) > 0)) {
          // The run has opened its metrics.csv (kept rows first), so the rows before the checkpoint
          // are safe
          // to read now; subscribers' charts restart from the checkpoint with a fresh history.
          loadPast(js)
              .onComplete(
                  v -> {
                    if (jobs.get(js.num) != js) {
                      return;
                    }
                    flushLoss();
                    boolean any = false;
                    for (ClientSession c : sessions) {
                      any |= c.awaitHistory(js.num);
                    }
                    if (any) {
                      requestHistory(js);
                    }
                  });
        }
      }
      case TrainerEvent.Epoch e -> {
        js.addTest(e.result().epoch(), e.result().step(), e.result().testLoss());
        flushLoss();
        broadcast(js.num, Stream.loss, new ServerMessage.Event(e));
      }
      case TrainerEvent.Setting e -> {
        js.addSetting(e.change().step(), e.change().epoch(), e.change().key(), e.change().value());
        broadcast(js.num, Stream.loss, new ServerMessage.Event(e));
      }
      case TrainerEvent.Log e -> broadcast(js.num, Stream.status, new ServerMessage.Event(e));
      case TrainerEvent.Diagnostics d -> {
        js.diagnostics = Encoded.of(new ServerMessage.Event(d));
        sendToLive(js.num, Stream.diagnostics, js.diagnostics);
      }
      case TrainerEvent.Warning w -> {
        Encoded text = Encoded.of(new ServerMessage.Event(w));
        js.warnings.addLast(text);
        while (js.warnings.size() > JobStream.KEPT_WARNINGS) {
          js.warnings.removeFirst();
        }
        sendToLive(js.num, Stream.status, text);
      }
      case TrainerEvent.Deleted e -> {
        jobs.remove(js.num);
        Encoded text = Encoded.of(new ServerMessage.Event(e));
        sessions.forEach(
            s -> {
              s.unsubscribe(js.num);
              s.send(text);
            });
      }
    }
  }

  /** A job object changed. A new id, or a resumed run of the same job, starts a fresh stream. */
  private void status(JsonObject job) {
    int num = job.getInteger("num");
    JobStream js = jobs.get(num);
    if (js == null
        || !job.getString("id").equals(js.id())
        || job.getLong("resumedAtStep", -1L) != js.resumedAtStep()
        // Taken over by another trainer node: a new run of the job, from its checkpoint.
        || job.getInteger("failovers", 0) != js.status.getInteger("failovers", 0)) {
      JobStream fresh = new JobStream(num, job);
      // A gateway that starts (or restarts) while the job runs reads what it missed from the run
      // directory
      // at the job's next step, like a resumed run.
      fresh.joinedMidRun =
          js == null
              && List.of("running", "paused").contains(fresh.state())
              && job.getLong("step", 0L) > Math.max(0L, fresh.resumedAtStep());
      jobs.put(num, fresh);
      if (js != null && job.getInteger("failovers", 0) != js.status.getInteger("failovers", 0)) {
        // Another trainer node continues from its checkpoint, before steps viewers have: their
        // live loss waits for the fresh history (sent at its first step).
        for (ClientSession c : sessions) {
          c.awaitHistory(num);
        }
      }
    } else {
      js.status = job;
    }
    // Every client sees every job's status, so run lists stay live without subscribing.
    Encoded text = Encoded.of(new ServerMessage.Status(job));
    sessions.forEach(s -> s.send(text));
  }

  private void onFrame(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    if (js == null) {
      return;
    }
    js.addFrame(m, config.frameHistory());
    Stream stream = Stream.of(m.frame().kind());
    for (ClientSession s : sessions) {
      if (s.wants(js.num, stream)) {
        s.offerFrame(m);
      }
    }
  }

  private void sendWaitingFrames() {
    if (framesWaiting.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    framesWaiting.removeIf(s -> !s.sendWaitingFrames(now));
  }

  /** Encodes once, sends to every session that takes the job's stream live. */
  private void broadcast(int job, Stream stream, ServerMessage msg) {
    Encoded text = null;
    for (ClientSession s : sessions) {
      if (s.takesLive(job, stream)) {
        if (text == null) {
          text = Encoded.of(msg);
        }
        s.send(text);
      }
    }
  }

  /** Sends a message encoded once to every session taking the job's stream live. */
  private void sendToLive(int job, Stream stream, Encoded text) {
    for (ClientSession s : sessions) {
      if (s.takesLive(job, stream)) {
        s.send(text);
      }
    }
  }

  /** Sends each job's new loss points, one message encoded once for all its subscribers. */
  private void flushLoss() {
    for (JobStream js : jobs.values()) {
      if (!js.pendingLoss.isEmpty()) {
        Columns batch = js.pendingLoss;
        js.pendingLoss = new Columns();
        broadcast(js.num, Stream.loss, new ServerMessage.Loss(js.num, batch.toJson()));
      }
    }
  }

  // --- history for newcomers -------------------------------------------------------------------

  /**
   * Sends the job's history to every session waiting for it ({@code historyPending}): from the
   * cached snapshot when it is recent enough, else once a new one is built on a worker. Meanwhile
   * their live loss waits, so nothing reaches them before their history.
   */
  void requestHistory(JobStream js) {
    HistorySnapshot snap = js.snapshot;
    if (snap != null && snap.serves(js.loss)) {
      deliverHistory(js, snap);
      return;
    }
    if (js.building != null) {
      return; // the sessions are served when it is done
    }
    Columns.View view = js.loss.view();
    counters.historySnapshots++;
    js.building = vertx.executeBlocking(() -> HistorySnapshot.build(view), false);
    js.building.onComplete(
        ar -> {
          js.building = null;
          if (jobs.get(js.num) != js) {
            return;
          }
          if (ar.failed()) {
            // A bug, not an input: the waiting sessions go live without a history rather than wait
            // for ever.
            LOG.log(
                System.Logger.Level.ERROR, "cannot build the history of " + js.id(), ar.cause());
            sessions.forEach(c -> c.abandonHistory(js.num));
            return;
          }
          if (ar.result().columns() != js.loss) {
            requestHistory(
                js); // the columns were replaced (past rows put in front) while it was built
            return;
          }
          js.snapshot = ar.result();
          deliverHistory(js, ar.result());
        });
  }

  /**
   * History, then the rows after the snapshot as one {@code loss} message (the tail), both encoded
   * once for every waiting session. Pending points go to the other subscribers first, so every row
   * after the tail reaches everyone in the next live batch: no gap and no repeat in {@code step}.
   */
  private void deliverHistory(JobStream js, HistorySnapshot snap) {
    flushLoss();
    List<Encoded> messages = new ArrayList<>(2);
    Supplier<List<Encoded>> encodedOnce =
        () -> {
          if (messages.isEmpty()) {
            messages.add(js.historyMessage(snap));
            int rows = js.loss.size();
            if (rows > snap.rows()) {
              messages.add(
                  Encoded.of(
                      new ServerMessage.Loss(js.num, js.loss.view().rows(snap.rows(), rows))));
            }
          }
          return messages;
        };
    for (ClientSession s : sessions) {
      if (s.deliverHistory(js.num, encodedOnce)) {
        counters.historiesSent++;
        counters.historyBytesSent += messages.getFirst().bytes();
      }
    }
  }

  private void closeSlowClients() {
    long now = System.currentTimeMillis();
    for (ClientSession s : List.copyOf(sessions)) {
      if (s.overHardBound()) {
        close(
            s,
            (short) 1008,
            "too slow: over " + 2L * config.writeQueueBytes() + " bytes waiting to be read");
        counters.slowClientsClosed++;
      } else if (s.overBoundLongerThan(config.slowClientTimeoutMs(), now)) {
        close(
            s,
            (short) 1008,
            "too slow: unwritable for over " + config.slowClientTimeoutMs() + " ms");
        counters.slowClientsClosed++;
      }
    }
  }

  /** Forgets the session now (no more writes to it) and closes its socket. */
  void close(ClientSession s, short code, String reason) {
    s.close(code, reason);
    sessions.remove(s);
    framesWaiting.remove(s);
  }

  // --- history from the run directory ----------------------------------------------------------

  /**
   * Reads, once, what the job's run directory holds from before this stream's first point: all of
   * it for a past run, the rows up to the checkpoint for a resumed one. A fresh run has nothing
   * there; a resumed run that has not yet stepped is rewriting its metrics.csv, so it is read at
   * its first step instead.
   */
  Future<Void> loadPast(JobStream js) {
    if (js.pastLoaded != null) {
      return js.pastLoaded;
    }
    boolean active = List.of("queued", "running", "paused").contains(js.state());
    long upTo;
    if (!js.loss.isEmpty()) {
      upTo = js.loss.firstStep() - 1;
    } else if (!active) {
      upTo = Long.MAX_VALUE;
    } else if (js.resumedAtStep() < 0 && !js.joinedMidRun) {
      upTo = 0;
    } else {
      return Future.succeededFuture();
    }
    if (upTo <= 0) {
      js.pastLoaded = Future.succeededFuture();
      return js.pastLoaded;
    }
    long limit = upTo;
    js.pastLoaded =
        vertx
            .executeBlocking(
                () ->
                    RunFiles.read(
                        runFiles(js.id()), js.num, js.status, limit, config.frameHistory()))
            .map(
                past -> {
                  js.prepend(past, config.frameHistory());
                  return (Void) null;
                })
            .recover(
                t -> {
                  LOG.log(
                      System.Logger.Level.WARNING,
                      "cannot read the history of " + js.id() + ": " + t);
                  return Future.succeededFuture();
                });
    return js.pastLoaded;
  }

  /**
   * A run's files on this machine's disk: the trainer's own in one process, or a directory shared
   * with it. A gateway node without the run on its disk reads them from the trainer node over the
   * event bus (on a worker thread, which may wait for the replies).
   */
  private RunFiles.Source runFiles(String jobId) {
    Path local = config.runsDir().resolve(jobId);
    if (config.role() != ServerConfig.Role.gateway
        || Files.isRegularFile(local.resolve(MetricsCsv.FILE))) {
      return RunFiles.Source.disk(local);
    }
    return name -> {
      try {
        return remoteFiles
            .read(jobId, name, MAX_RELAYED_BYTES)
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new IOException(
            "cannot read " + name + " from the trainer node: " + e.getCause().getMessage(), e);
      } catch (InterruptedException | TimeoutException e) {
        throw new IOException("cannot read " + name + " from the trainer node: " + e, e);
      }
    };
  }

  // --- clients --------------------------------------------------------------------------------

  /**
   * Takes over a new WebSocket; {@code onClose} runs when it closes (the HTTP side's bookkeeping).
   */
  public void attach(ServerWebSocket ws, boolean authorized, Runnable onClose) {
    ClientSession[] self = new ClientSession[1];
    ClientSession s =
        new ClientSession(
            ws,
            authorized,
            config.writeQueueBytes(),
            config.viewerBytesPerSecond(),
            counters,
            this::planeMessage,
            () -> framesWaiting.add(self[0]));
    self[0] = s;
    sessions.add(s);
    shareEgress();
    // Frames, not messages: Vert.x would decode invalid UTF-8 leniently and count the limit in
    // characters.
    ws.frameHandler(requests.frames(s)::accept);
    ws.closeHandler(
        v -> {
          s.socketClosed();
          sessions.remove(s);
          framesWaiting.remove(s);
          shareEgress();
          onClose.run();
        });
    ws.exceptionHandler(
        t -> {
          // A broken socket is closed by Vert.x; the close handler forgets the session.
        });
    s.send(
        new ServerMessage.Welcome(authorized, jobs.values().stream().map(j -> j.status).toList()));
  }

  /**
   * Loss ticks per flush: 1 up to {@link #VIEWERS_PER_LOSS_BATCH} viewers, then one more per that
   * many.
   */
  int lossBatchTicks() {
    return 1 + (sessions.size() - 1) / VIEWERS_PER_LOSS_BATCH;
  }

  /**
   * Each viewer's byte budget: {@code viewerBytesPerSecond}, or an equal share of this hub's part
   * of {@code maxEgressBytesPerSecond} when that is less, so more viewers get fewer frames each
   * instead of taking the trainer's CPU.
   */
  private void shareEgress() {
    int each =
        ClientSession.budget(
            config.viewerBytesPerSecond(),
            config.maxEgressBytesPerSecond(),
            config.gatewayInstanceCount(),
            sessions.size());
    sessions.forEach(c -> c.setBytesPerSecond(each));
  }

  private Encoded planeMessage(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    return js == null ? null : js.planeMessage(m);
  }
}
