package dev.latentstream.stream;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.Busy;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.train.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fans the trainer's events out to WebSocket clients and keeps each job's history for late joiners,
 * including what earlier runs left in the run directory. Lives on one event loop; all trainer traffic
 * arrives over the event bus, and run directories are read on a worker.
 */
public final class StreamHub {

  private static final System.Logger LOG = System.getLogger(StreamHub.class.getName());

  /**
   * The retry hint sent with {@code busy} for the per-client limit (the client's own replies are what it
   * waits for), and for a trainer's refusal that carries no figure of its own: about one request's time.
   */
  static final long BUSY_RETRY_MS = 200;
  /** {@code too_busy} replies a client over its bound gets before it is closed. */
  static final int TOO_BUSY_REPLIES_BEFORE_CLOSE = 16;
  /** Viewers per hub up to which loss goes out every {@code lossBatchMs}; past it, that many times less often. */
  static final int VIEWERS_PER_LOSS_BATCH = 250;
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
  private long lossTicks;
  /** Strict: invalid UTF-8 closes the socket (1007) instead of becoming U+FFFD. Event loop only. */
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

  /** Totals since start, for {@code /api/info}; touched on the hub's event loop only. */
  static final class Counters {
    long framesSent;
    long framesConflated;
    long slowClientsClosed;
    long tooBusyClosed;
    long historiesSent;
    long historyBytesSent;
    long historySnapshots;
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
  }

  public Future<Void> start() {
    // consumer, not localConsumer: on a cluster the trainer publishes from another JVM.
    vertx.eventBus().<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx.eventBus().<FrameMessage>consumer(Addresses.FROM_TRAINER_FRAMES, m -> onFrame(m.body()));
    vertx.setPeriodic(config.lossBatchMs(), id -> {
      // Many viewers: fewer, larger loss messages (every point still arrives), so the writes per second stay
      // about what VIEWERS_PER_LOSS_BATCH viewers cost.
      if (++lossTicks % lossBatchTicks() == 0) {
        flushLoss();
      }
    });
    vertx.setPeriodic(Math.max(50, config.slowClientTimeoutMs() / 4), id -> closeSlowClients());
    // A gateway may start before any trainer node: it then learns the jobs when one appears (TrainerWatch).
    vertx.setPeriodic(FRAME_TICK_MS, id -> sendWaitingFrames());
    return trainer(new TrainerCommand.ListJobs()).map(list -> {
      list.getJsonArray("jobs").forEach(j -> status((JsonObject) j));
      return (Void) null;
    }).recover(noTrainerYet -> Future.succeededFuture());
  }

  /**
   * Every job this gateway knows, as last reported (including {@code unreachable} ones whose trainer node
   * is gone): answered from memory, never waiting on a trainer.
   */
  public io.vertx.core.json.JsonArray jobStatuses() {
    return new io.vertx.core.json.JsonArray(jobs.values().stream().map(j -> j.status).toList());
  }

  /** Connected clients and what back-pressure and the history cache have done so far. */
  public JsonObject stats() {
    return new JsonObject().put("clients", sessions.size()).put("framesSent", counters.framesSent)
        .put("framesConflated", counters.framesConflated).put("slowClientsClosed", counters.slowClientsClosed)
        .put("tooBusyClosed", counters.tooBusyClosed).put("historiesSent", counters.historiesSent)
        .put("historyBytesSent", counters.historyBytesSent).put("historySnapshots", counters.historySnapshots);
  }

  /**
   * The kept frame of a job nearest at or before {@code step} (the latest when step is null); null when
   * there is none or the job is unknown ({@link #frameAt} tells the two apart).
   */
  public Future<FrameMessage> frame(String jobId, FrameKind kind, Long step) {
    return frameAt(jobId, kind, step).map(r -> r instanceof FrameLookup.Found f ? f.frame() : null);
  }

  /** The kept frame of a job at or before {@code step} (the latest when null), none kept, or an unknown job. */
  public Future<FrameLookup> frameAt(String jobId, FrameKind kind, Long step) {
    JobStream js = byId(jobId);
    if (js == null) {
      return Future.succeededFuture(new FrameLookup.UnknownJob());
    }
    return loadPast(js).map(v -> {
      FrameMessage m = step == null ? js.latest.get(kind) : js.frameAt(kind, step);
      return m == null ? new FrameLookup.NoneKept() : new FrameLookup.Found(m);
    });
  }

  /** The steps of the frames kept for scrubbing, per stream ({@code {}} for an unknown job). */
  public Future<JsonObject> frameIndex(String jobId) {
    JobStream js = byId(jobId);
    return js == null ? Future.succeededFuture(new JsonObject()) : loadPast(js).map(v -> js.frameIndex());
  }

  private JobStream byId(String id) {
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
        if (first && (js.resumedAtStep() >= 0 || js.joinedMidRun)) {
          // The run has opened its metrics.csv (kept rows first), so the rows before the checkpoint are safe
          // to read now; subscribers' charts restart from the checkpoint with a fresh history.
          loadPast(js).onComplete(v -> {
            if (jobs.get(js.num) != js) {
              return;
            }
            flushLoss();
            boolean any = false;
            for (ClientSession c : sessions) {
              ClientSession.Subscription sub = c.subscriptions.get(js.num);
              if (sub != null && sub.streams.contains(Stream.loss)) {
                sub.historyPending = true;
                any = true;
              }
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
        sessions.forEach(s -> {
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
    if (js == null || !job.getString("id").equals(js.id()) || job.getLong("resumedAtStep", -1L) != js.resumedAtStep()) {
      JobStream fresh = new JobStream(num, job);
      // A gateway that starts (or restarts) while the job runs reads what it missed from the run directory
      // at the job's next step, like a resumed run.
      fresh.joinedMidRun = js == null && List.of("running", "paused").contains(fresh.state())
          && job.getLong("step", 0L) > Math.max(0L, fresh.resumedAtStep());
      jobs.put(num, fresh);
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
    Stream stream = Stream.valueOf(m.frame().kind().wireName());
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
   * Sends the job's history to every session waiting for it ({@code historyPending}): from the cached
   * snapshot when it is recent enough, else once a new one is built on a worker. Meanwhile their live loss
   * waits, so nothing reaches them before their history.
   */
  private void requestHistory(JobStream js) {
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
    js.building.onComplete(ar -> {
      js.building = null;
      if (jobs.get(js.num) != js) {
        return;
      }
      if (ar.failed()) {
        // A bug, not an input: the waiting sessions go live without a history rather than wait for ever.
        LOG.log(System.Logger.Level.ERROR, "cannot build the history of " + js.id(), ar.cause());
        sessions.forEach(c -> {
          ClientSession.Subscription sub = c.subscriptions.get(js.num);
          if (sub != null) {
            sub.historyPending = false;
          }
        });
        return;
      }
      if (ar.result().columns() != js.loss) {
        requestHistory(js); // the columns were replaced (past rows put in front) while it was built
        return;
      }
      js.snapshot = ar.result();
      deliverHistory(js, ar.result());
    });
  }

  /**
   * History, then the rows after the snapshot as one {@code loss} message (the tail), both encoded once for
   * every waiting session. Pending points go to the other subscribers first, so every row after the tail
   * reaches everyone in the next live batch: no gap and no repeat in {@code step}.
   */
  private void deliverHistory(JobStream js, HistorySnapshot snap) {
    flushLoss();
    Encoded history = null;
    Encoded tail = null;
    for (ClientSession s : sessions) {
      ClientSession.Subscription sub = s.subscriptions.get(js.num);
      if (sub == null || !sub.historyPending) {
        continue;
      }
      sub.historyPending = false;
      if (!sub.streams.contains(Stream.loss)) {
        continue;
      }
      if (history == null) {
        history = js.historyMessage(snap);
        int rows = js.loss.size();
        tail = rows > snap.rows() ? Encoded.of(new ServerMessage.Loss(js.num, js.loss.view().rows(snap.rows(), rows)))
            : null;
      }
      s.send(history);
      if (tail != null) {
        s.send(tail);
      }
      sub.historySent = true;
      counters.historiesSent++;
      counters.historyBytesSent += history.bytes();
      s.sendWaitingFrames(System.nanoTime()); // the frames held back for the history
    }
  }

  private void closeSlowClients() {
    long now = System.currentTimeMillis();
    for (ClientSession s : List.copyOf(sessions)) {
      if (s.overHardBound()) {
        close(s, (short) 1008, "too slow: over " + 2L * config.writeQueueBytes() + " bytes waiting to be read");
        counters.slowClientsClosed++;
      } else if (s.overSinceMillis >= 0 && now - s.overSinceMillis > config.slowClientTimeoutMs()) {
        close(s, (short) 1008, "too slow: unwritable for over " + config.slowClientTimeoutMs() + " ms");
        counters.slowClientsClosed++;
      }
    }
  }

  /** Forgets the session now (no more writes to it) and closes its socket. */
  private void close(ClientSession s, short code, String reason) {
    s.closed = true;
    sessions.remove(s);
    framesWaiting.remove(s);
    if (!s.ws.isClosed()) {
      s.ws.close(code, reason);
    }
  }

  // --- history from the run directory ----------------------------------------------------------

  /**
   * Reads, once, what the job's run directory holds from before this stream's first point: all of it for a
   * past run, the rows up to the checkpoint for a resumed one. A fresh run has nothing there; a resumed run
   * that has not yet stepped is rewriting its metrics.csv, so it is read at its first step instead.
   */
  private Future<Void> loadPast(JobStream js) {
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
    js.pastLoaded = vertx.executeBlocking(() -> RunFiles.read(config.runsDir().resolve(js.id()), js.num, js.status, limit,
            config.frameHistory()))
        .map(past -> {
          js.prepend(past, config.frameHistory());
          return (Void) null;
        })
        .recover(t -> {
          LOG.log(System.Logger.Level.WARNING, "cannot read the history of " + js.id() + ": " + t);
          return Future.succeededFuture();
        });
    return js.pastLoaded;
  }

  // --- clients --------------------------------------------------------------------------------

  /** Takes over a new WebSocket; {@code onClose} runs when it closes (the HTTP side's bookkeeping). */
  public void attach(ServerWebSocket ws, boolean authorized, Runnable onClose) {
    ClientSession[] self = new ClientSession[1];
    ClientSession s = new ClientSession(ws, authorized, config.writeQueueBytes(), config.viewerBytesPerSecond(),
        counters, this::planeMessage,
        () -> framesWaiting.add(self[0]));
    self[0] = s;
    sessions.add(s);
    shareEgress();
    Inbound in = new Inbound();
    // Frames, not messages: Vert.x would decode invalid UTF-8 leniently and count the limit in characters.
    ws.frameHandler(f -> in.frame(s, f));
    ws.closeHandler(v -> {
      s.closed = true;
      sessions.remove(s);
      framesWaiting.remove(s);
      shareEgress();
      onClose.run();
    });
    ws.exceptionHandler(t -> {
      // A broken socket is closed by Vert.x; the close handler forgets the session.
    });
    s.send(new ServerMessage.Welcome(authorized, jobs.values().stream().map(j -> j.status).toList()));
  }

  /** Loss ticks per flush: 1 up to {@link #VIEWERS_PER_LOSS_BATCH} viewers, then one more per that many. */
  int lossBatchTicks() {
    return 1 + (sessions.size() - 1) / VIEWERS_PER_LOSS_BATCH;
  }

  /**
   * Each viewer's byte budget: {@code viewerBytesPerSecond}, or an equal share of this hub's part of
   * {@code maxEgressBytesPerSecond} when that is less, so more viewers get fewer frames each instead of
   * taking the trainer's CPU.
   */
  private void shareEgress() {
    int each = ClientSession.budget(config.viewerBytesPerSecond(), config.maxEgressBytesPerSecond(),
        config.gatewayInstanceCount(), sessions.size());
    sessions.forEach(c -> c.setBytesPerSecond(each));
  }

  private Encoded planeMessage(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    return js == null ? null : js.planeMessage(m);
  }

  /**
   * One client's message being reassembled from its frames. A message over 4 × {@code maxMessageBytes}
   * closes the socket (1009) without being buffered further; one up to that is read and answered
   * {@code too_large} when over the limit; invalid UTF-8 in a text message closes it (1007).
   */
  private final class Inbound {
    private Buffer message;
    private boolean text;

    void frame(ClientSession s, WebSocketFrame f) {
      if (s.closed) {
        return;
      }
      if (f.isText() || f.isBinary()) {
        message = Buffer.buffer();
        text = f.isText();
      } else if (!f.isContinuation() || message == null) {
        return; // ping, pong and close are Vert.x's
      }
      message.appendBuffer(f.binaryData());
      if (message.length() > 4L * config.maxMessageBytes()) {
        message = null;
        close(s, (short) 1009, "message too big");
        return;
      }
      if (!f.isFinal()) {
        return;
      }
      Buffer complete = message;
      message = null;
      if (!text) {
        s.send(new ServerMessage.Error(null, Codes.BAD_FIELD, "binary messages are not accepted; send JSON text"));
        return;
      }
      String decoded;
      try {
        decoded = utf8.reset().decode(ByteBuffer.wrap(complete.getBytes())).toString();
      } catch (CharacterCodingException e) {
        close(s, (short) 1007, "invalid UTF-8");
        return;
      }
      onMessage(s, decoded, complete.length());
    }
  }

  private void onMessage(ClientSession s, String text, int bytes) {
    ClientMessage m;
    try {
      m = Protocol.parse(text, bytes, config.maxMessageBytes());
    } catch (ProtocolException e) {
      if (!tooBusy(s, e.id())) {
        s.send(new ServerMessage.Error(e.id(), e.code(), e.getMessage()));
      }
      return;
    }
    if (tooBusy(s, m.id())) {
      return;
    }
    try {
      handle(s, m);
    } catch (ProtocolException e) {
      s.send(new ServerMessage.Error(m.id(), e.code(), e.getMessage()));
    }
  }

  /**
   * A client over its bound is not served: each request gets {@code too_busy}, and one that keeps asking
   * is closed. So no client can make the server hold more for it than its bound and a few small replies.
   */
  private boolean tooBusy(ClientSession s, String id) {
    if (!s.overBound()) {
      return false;
    }
    if (++s.tooBusyReplies > TOO_BUSY_REPLIES_BEFORE_CLOSE) {
      counters.tooBusyClosed++;
      close(s, (short) 1008, "too busy: kept sending while over " + config.writeQueueBytes() + " bytes unread");
    } else {
      s.send(new ServerMessage.Error(id, Codes.TOO_BUSY, "over " + config.writeQueueBytes() + " bytes are waiting for "
          + "you to read them; read before asking for more", config.slowClientTimeoutMs() / 4));
    }
    return true;
  }

  private void handle(ClientSession s, ClientMessage m) {
    switch (m) {
      case Protocol.Hello h -> {
        if (h.token() != null) {
          if (!config.tokenMatches(h.token())) {
            throw new ProtocolException(Codes.UNAUTHORIZED, "wrong token", h.id());
          }
          s.authorized = true;
        }
        s.send(new ServerMessage.Hello(h.id(), s.authorized));
      }
      case Protocol.Subscribe sub -> subscribe(s, sub);
      case Protocol.Unsubscribe u -> {
        JobStream js = find(u.job(), u.id());
        s.unsubscribe(js.num);
        s.send(new ServerMessage.Unsubscribed(u.id(), js.num));
      }
      case Protocol.Start st -> {
        requireToken(s, st.id());
        forward(s, st.id(), "start", new TrainerCommand.Start(st.preset(), st.spec(), st.epochs()));
      }
      case Protocol.Control c -> {
        requireToken(s, c.id());
        TrainerCommand.Action action = TrainerCommand.Action.fromWireName(c.action());
        forward(s, c.id(), c.action(), new TrainerCommand.Control(action, find(c.job(), c.id()).id()));
      }
      case Protocol.SetSetting set -> {
        requireToken(s, set.id());
        forward(s, set.id(), "set", new TrainerCommand.Set(find(set.job(), set.id()).id(), set.key(), set.value()));
      }
      case Protocol.ModelRequest r -> {
        if (config.watchRequiresToken()) {
          requireToken(s, r.id());
        }
        JobStream js = find(r.job(), r.id());
        if (s.interactiveInFlight >= config.interactiveMaxInFlightPerClient()) {
          s.send(new ServerMessage.Error(r.id(), Codes.BUSY, config.interactiveMaxInFlightPerClient()
              + " interactive requests are already in flight for you; wait for a reply, then retry", BUSY_RETRY_MS));
          return;
        }
        // The trainer said when it would have time again: until then the answer is known here, and a flood
        // costs neither the event bus nor the trainer's node anything.
        long waitMs = js.trainerBusyUntilNanos == 0 ? 0 : (js.trainerBusyUntilNanos - System.nanoTime()) / 1_000_000;
        if (waitMs > 0) {
          s.send(new ServerMessage.Error(r.id(), Codes.BUSY, "the trainer's time for interactive requests is used up; "
              + "retry in " + waitMs + " ms", waitMs));
          return;
        }
        // One client gets a share of the trainer's interactive time, so one flooding socket cannot take it all.
        long clientWaitMs = s.interactiveWaitMs(config.interactiveClientMsPerSecond(), System.nanoTime());
        if (clientWaitMs > 0) {
          s.send(new ServerMessage.Error(r.id(), Codes.BUSY, "your share of the trainer's time ("
              + config.interactiveClientMsPerSecond() + " ms per second) is used up; retry in " + clientWaitMs + " ms",
              clientWaitMs));
          return;
        }
        s.interactiveInFlight++;
        forward(s, r.id(), r.op(), new TrainerCommand.ModelRequest(js.id(), r.op(), r.body()),
            busy -> js.trainerBusyUntilNanos = Math.max(js.trainerBusyUntilNanos,
                System.nanoTime() + busy.retryAfterMs() * 1_000_000),
            result -> {
              if (result.remove(TrainerCommand.ModelRequest.TRAINER_MS) instanceof Number ms) {
                s.chargeInteractive(ms.doubleValue());
              }
            })
            .onComplete(v -> s.interactiveInFlight--);
      }
      case Protocol.Ping p -> s.send(new ServerMessage.Pong(p.id()));
    }
  }

  /**
   * A first subscribe gets the history (with {@code loss}) and the latest frame of each image stream. A
   * repeated one replaces the streams and rate: no second history, only the latest frames of added streams.
   */
  private void subscribe(ClientSession s, Protocol.Subscribe req) {
    if (config.watchRequiresToken()) {
      requireToken(s, req.id());
    }
    JobStream js = find(req.job(), req.id());
    // The server's maxFramesPerSecond caps every client; a client's maxFps can only lower it.
    double fps = req.maxFps() == null ? config.maxFramesPerSecond() : Math.min(config.maxFramesPerSecond(), req.maxFps());
    EnumSet<Stream> streams = EnumSet.copyOf(req.streams());
    ClientSession.Subscription before = s.subscriptions.get(js.num);
    EnumSet<Stream> added = EnumSet.copyOf(streams);
    if (before != null) {
      added.removeAll(before.streams);
    }
    ClientSession.Subscription sub = s.subscribe(js.num, streams, (long) (1e9 / fps));
    sub.latentPoints = req.latentPoints();
    s.send(new ServerMessage.Subscribed(req.id(), js.status, streams.stream().map(Enum::name).toList(), fps));
    boolean needsHistory = streams.contains(Stream.loss) && !sub.historySent && !sub.historyPending;
    if (needsHistory) {
      sub.historyPending = true;
    }
    loadPast(js).onComplete(done -> {
      if (s.closed || s.subscriptions.get(js.num) != sub) {
        return;
      }
      JobStream now = jobs.get(js.num);
      if (now != js) {
        // A resumed run replaced the stream meanwhile: the history owed is the new one's.
        if (needsHistory && now != null && sub.historyPending) {
          loadPast(now).onComplete(v -> requestHistory(now));
        }
        return;
      }
      // A run whose past is still on disk (resumed, or joined mid-run by a late gateway) sends its history at
      // its next step, once that past is read: an empty history now would only be replaced.
      if (needsHistory && sub.historyPending && js.pastLoaded != null) {
        requestHistory(js);
      }
      for (FrameKind kind : FrameKind.values()) {
        FrameMessage latest = js.latest.get(kind);
        if (latest != null && added.contains(Stream.valueOf(kind.wireName())) && sub.streams.contains(
            Stream.valueOf(kind.wireName()))) {
          s.offerFrame(latest);
        }
      }
      if (added.contains(Stream.diagnostics) && js.diagnostics != null) {
        s.send(js.diagnostics);
      }
      if (added.contains(Stream.status)) {
        js.warnings.forEach(s::send);
      }
    });
  }

  private Future<Void> forward(ClientSession s, String id, String requestType, TrainerCommand command) {
    return forward(s, id, requestType, command, busy -> { }, result -> { });
  }

  /**
   * Sends {@code command} to the trainer and its reply to the client; {@code onBusy} hears the trainer's busy,
   * {@code onResult} sees a result before the client does.
   */
  private Future<Void> forward(ClientSession s, String id, String requestType, TrainerCommand command,
      java.util.function.Consumer<Busy> onBusy, java.util.function.Consumer<JsonObject> onResult) {
    return trainer(command).transform(ar -> {
      if (ar.succeeded()) {
        onResult.accept(ar.result());
        s.send(new ServerMessage.Result(ServerMessage.RESULT_TYPES.get(requestType), id, ar.result()));
      } else {
        String code = code(ar.cause());
        if (Codes.BUSY.equals(code) && ar.cause() instanceof ReplyException r) {
          // The trainer refused for its global budget: its own figure for when to try again.
          Busy busy = Busy.of(r, BUSY_RETRY_MS);
          onBusy.accept(busy);
          s.send(new ServerMessage.Error(id, code, busy.message(), busy.retryAfterMs()));
        } else {
          s.send(new ServerMessage.Error(id, code, ar.cause().getMessage(), null));
        }
      }
      return Future.succeededFuture();
    });
  }

  static String code(Throwable t) {
    if (t instanceof ReplyException r) {
      return switch (r.failureCode()) {
        case 400 -> Codes.BAD_REQUEST;
        case 404 -> Codes.UNKNOWN_JOB;
        case 409 -> Codes.CONFLICT;
        case Busy.FAILURE_CODE -> Codes.BUSY;
        case 503 -> Codes.UNAVAILABLE;
        // No trainer node answered (none registered, or it timed out): not the server's fault.
        default -> r.failureType() == ReplyFailure.RECIPIENT_FAILURE ? Codes.INTERNAL : Codes.UNAVAILABLE;
      };
    }
    return Codes.INTERNAL;
  }

  private Future<JsonObject> trainer(TrainerCommand command) {
    return routes.request(command);
  }

  private JobStream find(Object job, String id) {
    JobStream js = job instanceof Integer n ? jobs.get(n) : byId(String.valueOf(job));
    if (js == null) {
      throw new ProtocolException(Codes.UNKNOWN_JOB, "unknown job '" + job + "'", id);
    }
    return js;
  }

  private void requireToken(ClientSession s, String id) {
    if (!s.authorized) {
      throw new ProtocolException(Codes.UNAUTHORIZED, "this needs the token: send {\"type\":\"hello\",\"version\":1,"
          + "\"token\":\"...\"} first", id);
    }
  }
}
