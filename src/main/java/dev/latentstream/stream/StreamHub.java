package dev.latentstream.stream;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.bus.Addresses;
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
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
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

  private final Vertx vertx;
  private final ServerConfig config;
  private final Map<Integer, JobStream> jobs = new LinkedHashMap<>();
  private final Set<ClientSession> sessions = new HashSet<>();
  private final Counters counters = new Counters();

  /** Totals since start, for {@code /api/info}; touched on the hub's event loop only. */
  static final class Counters {
    long framesSent;
    long framesConflated;
    long slowClientsClosed;
  }

  public StreamHub(Vertx vertx, ServerConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  public Future<Void> start() {
    // consumer, not localConsumer: on a cluster the trainer publishes from another JVM.
    vertx.eventBus().<TrainerEvent>consumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx.eventBus().<FrameMessage>consumer(Addresses.FROM_TRAINER_FRAMES, m -> onFrame(m.body()));
    vertx.setPeriodic(config.lossBatchMs(), id -> flushLoss());
    vertx.setPeriodic(Math.max(50, config.slowClientTimeoutMs() / 4), id -> closeSlowClients());
    // A gateway may start before any trainer node: it then learns the jobs when one appears (TrainerWatch).
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

  /** Connected clients and what back-pressure has done to them so far. */
  public JsonObject stats() {
    return new JsonObject().put("clients", sessions.size()).put("framesSent", counters.framesSent)
        .put("framesConflated", counters.framesConflated).put("slowClientsClosed", counters.slowClientsClosed);
  }

  /**
   * The kept frame of a job nearest at or before {@code step} (the latest when step is null); null when
   * there is none or the job is unknown.
   */
  public Future<FrameMessage> frame(String jobId, FrameKind kind, Long step) {
    JobStream js = byId(jobId);
    return js == null ? Future.succeededFuture()
        : loadPast(js).map(v -> step == null ? js.latest.get(kind) : js.frameAt(kind, step));
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
          // to read now; subscribers' charts restart from the checkpoint.
          loadPast(js).onComplete(v -> sendHistory(js, sessionsWanting(js.num, Stream.loss)));
        }
      }
      case TrainerEvent.Epoch e -> {
        js.addTest(e.epoch(), e.step(), e.testLoss());
        flushLoss();
        broadcast(js.num, Stream.loss, new ServerMessage.Epoch(js.num, e.epoch(), e.step(), e.testLoss(), e.train(),
            e.seconds()));
      }
      case TrainerEvent.Setting e -> {
        js.addSetting(e.step(), e.epoch(), e.key(), e.value());
        broadcast(js.num, Stream.loss, new ServerMessage.Setting(js.num, e.step(), e.epoch(), e.key(), e.value()));
      }
      case TrainerEvent.Log e -> broadcast(js.num, Stream.status, new ServerMessage.Log(js.num, e.message()));
      case TrainerEvent.Deleted e -> {
        jobs.remove(js.num);
        String text = new ServerMessage.Deleted(js.num, e.jobId()).toJson().encode();
        sessions.forEach(s -> {
          s.unsubscribe(js.num);
          s.sendText(text);
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
    String text = new ServerMessage.Status(job).toJson().encode();
    sessions.forEach(s -> s.sendText(text));
  }

  private void onFrame(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    if (js == null) {
      return;
    }
    js.addFrame(m, config.frameHistory());
    Stream stream = Stream.valueOf(m.frame().kind().wireName());
    String plane = m.frame().plane() != null ? js.plane().toJson().encode() : null;
    for (ClientSession s : sessionsWanting(js.num, stream)) {
      if (plane != null) {
        s.sendText(plane);
      }
      s.offerFrame(m);
    }
  }

  private List<ClientSession> sessionsWanting(int job, Stream stream) {
    return sessions.stream().filter(s -> s.wants(job, stream)).toList();
  }

  /** Encodes once, sends to every session subscribed to the job's stream. */
  private void broadcast(int job, Stream stream, ServerMessage msg) {
    String text = null;
    for (ClientSession s : sessions) {
      if (s.wants(job, stream)) {
        if (text == null) {
          text = msg.toJson().encode();
        }
        s.sendText(text);
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

  /**
   * Sends the whole history, which replaces what a client holds. Points still waiting for the next batch
   * go out first, so no batch after the history repeats a point in it.
   */
  private void sendHistory(JobStream js, List<ClientSession> to) {
    flushLoss();
    if (to.isEmpty() || jobs.get(js.num) != js) {
      return;
    }
    String text = js.history().toJson().encode();
    to.forEach(s -> s.sendText(text));
  }

  private void closeSlowClients() {
    long now = System.currentTimeMillis();
    for (ClientSession s : List.copyOf(sessions)) {
      if (s.unwritableSinceMillis >= 0 && now - s.unwritableSinceMillis > config.slowClientTimeoutMs()) {
        s.closed = true;
        sessions.remove(s);
        counters.slowClientsClosed++;
        s.ws.close((short) 1008, "too slow: unwritable for over " + config.slowClientTimeoutMs() + " ms");
      }
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
    ClientSession s = new ClientSession(ws, authorized, counters);
    sessions.add(s);
    ws.textMessageHandler(text -> onMessage(s, text));
    ws.binaryMessageHandler(b -> s.send(new ServerMessage.Error(null, Codes.BAD_FIELD,
        "binary messages are not accepted; send JSON text")));
    ws.closeHandler(v -> {
      s.closed = true;
      sessions.remove(s);
      onClose.run();
    });
    ws.exceptionHandler(t -> {
      // Vert.x drops a message over its size limit and reports it here: close, rather than leave the client
      // waiting for a reply. A broken socket is closed by Vert.x; the close handler forgets the session.
      if (t instanceof IllegalStateException && String.valueOf(t.getMessage()).contains("max message size")
          && !ws.isClosed()) {
        ws.close((short) 1009, "message too big");
      }
    });
    s.send(new ServerMessage.Welcome(authorized, jobs.values().stream().map(j -> j.status).toList()));
  }

  private void onMessage(ClientSession s, String text) {
    ClientMessage m;
    try {
      m = Protocol.parse(text, config.maxMessageBytes());
    } catch (ProtocolException e) {
      s.send(new ServerMessage.Error(e.id(), e.code(), e.getMessage()));
      return;
    }
    try {
      handle(s, m);
    } catch (ProtocolException e) {
      s.send(new ServerMessage.Error(m.id(), e.code(), e.getMessage()));
    }
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
        forward(s, r.id(), r.op(), new TrainerCommand.ModelRequest(find(r.job(), r.id()).id(), r.op(), r.body()));
      }
      case Protocol.Ping p -> s.send(new ServerMessage.Pong(p.id()));
    }
  }

  private void subscribe(ClientSession s, Protocol.Subscribe sub) {
    if (config.watchRequiresToken()) {
      requireToken(s, sub.id());
    }
    JobStream js = find(sub.job(), sub.id());
    // Points not yet flushed go to the existing subscribers now; the newcomer gets them in its history.
    flushLoss();
    s.subscriptions.put(js.num, EnumSet.copyOf(sub.streams()));
    s.send(new ServerMessage.Subscribed(sub.id(), js.status, sub.streams().stream().map(Enum::name).toList()));
    loadPast(js).onComplete(done -> {
      if (s.closed || jobs.get(js.num) != js) {
        return;
      }
      if (s.wants(js.num, Stream.loss)) {
        sendHistory(js, List.of(s));
      }
      for (FrameKind kind : FrameKind.values()) {
        FrameMessage latest = js.latest.get(kind);
        if (latest != null && s.wants(js.num, Stream.valueOf(kind.wireName()))) {
          if (latest.frame().plane() != null) {
            s.send(js.plane());
          }
          s.offerFrame(latest);
        }
      }
    });
  }

  private void forward(ClientSession s, String id, String requestType, TrainerCommand command) {
    trainer(command).onComplete(ar -> {
      if (ar.succeeded()) {
        s.send(new ServerMessage.Result(ServerMessage.RESULT_TYPES.get(requestType), id, ar.result()));
      } else {
        s.send(new ServerMessage.Error(id, code(ar.cause()), ar.cause().getMessage()));
      }
    });
  }

  static String code(Throwable t) {
    if (t instanceof ReplyException r) {
      return switch (r.failureCode()) {
        case 400 -> Codes.BAD_REQUEST;
        case 404 -> Codes.UNKNOWN_JOB;
        case 409 -> Codes.CONFLICT;
        case 503 -> Codes.UNAVAILABLE;
        // No trainer node answered (none registered, or it timed out): not the server's fault.
        default -> r.failureType() == ReplyFailure.RECIPIENT_FAILURE ? Codes.INTERNAL : Codes.UNAVAILABLE;
      };
    }
    return Codes.INTERNAL;
  }

  private Future<JsonObject> trainer(TrainerCommand command) {
    return vertx.eventBus().<JsonObject>request(Addresses.TO_TRAINER, command).map(m -> m.body());
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
