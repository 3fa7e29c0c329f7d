package dev.latentstream.stream;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.server.Addresses;
import dev.latentstream.server.FrameMessage;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.train.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fans the trainer's events out to WebSocket clients and keeps each job's history for late joiners.
 * Lives on one event loop; all trainer traffic arrives over the event bus.
 */
public final class StreamHub {

  private final Vertx vertx;
  private final ServerConfig config;
  private final Map<Integer, JobStream> jobs = new LinkedHashMap<>();
  private final Set<ClientSession> sessions = new HashSet<>();

  public StreamHub(Vertx vertx, ServerConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  public Future<Void> start() {
    vertx.eventBus().<JsonObject>localConsumer(Addresses.FROM_TRAINER_EVENTS, m -> onEvent(m.body()));
    vertx.eventBus().<FrameMessage>localConsumer(Addresses.FROM_TRAINER_FRAMES, m -> onFrame(m.body()));
    vertx.setPeriodic(config.lossBatchMs(), id -> flushLoss());
    vertx.setPeriodic(Math.max(50, config.slowClientTimeoutMs() / 4), id -> closeSlowClients());
    return trainer(new JsonObject().put("op", "list")).map(list -> {
      list.getJsonArray("jobs").forEach(j -> status((JsonObject) j));
      return null;
    });
  }

  public int clients() {
    return sessions.size();
  }

  /** The kept frame of a job nearest at or before {@code step} (the latest when step is null). */
  public FrameMessage frame(String jobId, FrameKind kind, Long step) {
    JobStream js = byId(jobId);
    if (js == null) {
      return null;
    }
    return step == null ? js.latest.get(kind) : js.frameAt(kind, step);
  }

  public JsonObject frameIndex(String jobId) {
    JobStream js = byId(jobId);
    return js == null ? new JsonObject() : js.frameIndex();
  }

  private JobStream byId(String id) {
    return jobs.values().stream().filter(j -> id.equals(j.id())).findFirst().orElse(null);
  }

  // --- trainer events -------------------------------------------------------------------------

  private void onEvent(JsonObject e) {
    switch (e.getString("kind")) {
      case "status" -> status(e.getJsonObject("job"));
      case "step" -> {
        JobStream js = jobs.get(e.getInteger("job"));
        if (js == null) {
          return;
        }
        js.loss.add(e);
        js.pendingLoss.add(e);
      }
      case "epoch" -> {
        JobStream js = jobs.get(e.getInteger("job"));
        if (js == null) {
          return;
        }
        js.addTest(e.getInteger("epoch"), e.getLong("step"), e.getDouble("test"));
        flushLoss();
        JsonObject msg = e.copy().put("type", "epoch");
        msg.remove("kind");
        broadcast(js.num, Stream.loss, msg);
      }
      case "setting" -> {
        JobStream js = jobs.get(e.getInteger("job"));
        if (js == null) {
          return;
        }
        JsonObject msg = e.copy().put("type", "setting");
        msg.remove("kind");
        js.settings.add(new JsonObject().put("step", e.getLong("step")).put("key", e.getString("key"))
            .put("value", e.getDouble("value")));
        broadcast(js.num, Stream.loss, msg);
      }
      case "log" -> broadcast(e.getInteger("job"), Stream.status, new JsonObject().put("type", "log")
          .put("job", e.getInteger("job")).put("message", e.getString("message")));
      case "deleted" -> {
        jobs.remove(e.getInteger("job"));
        JsonObject msg = new JsonObject().put("type", "deleted").put("job", e.getInteger("job")).put("id", e.getString("id"));
        sessions.forEach(s -> {
          s.unsubscribe(e.getInteger("job"));
          s.send(msg);
        });
      }
      default -> {
        // events for other consumers
      }
    }
  }

  private void status(JsonObject job) {
    int num = job.getInteger("num");
    JobStream js = jobs.get(num);
    if (js == null || !job.getString("id").equals(js.id())) {
      js = new JobStream(num, job);
      jobs.put(num, js);
    }
    js.status = job;
    String msg = new JsonObject().put("type", "status").put("job", job).encode();
    // Every client sees every job's status, so run lists stay live without subscribing.
    sessions.forEach(s -> s.sendText(msg));
  }

  private void onFrame(FrameMessage m) {
    JobStream js = jobs.get(m.job());
    if (js == null) {
      return;
    }
    js.addFrame(m, config.frameHistory());
    Stream stream = Stream.valueOf(m.frame().kind().wireName());
    String plane = m.frame().plane() != null ? js.planeMessage().encode() : null;
    for (ClientSession s : sessions) {
      if (s.wants(js.num, stream)) {
        if (plane != null) {
          s.sendText(plane);
        }
        s.offerFrame(m);
      }
    }
  }

  /** Encodes once, sends to every session subscribed to the job's stream. */
  private void broadcast(int job, Stream stream, JsonObject msg) {
    String text = null;
    for (ClientSession s : sessions) {
      if (s.wants(job, stream)) {
        if (text == null) {
          text = msg.encode();
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
        broadcast(js.num, Stream.loss, new JsonObject().put("type", "loss").put("job", js.num)
            .put("columns", batch.toJson()));
      }
    }
  }

  private void closeSlowClients() {
    long now = System.currentTimeMillis();
    for (ClientSession s : List.copyOf(sessions)) {
      if (s.unwritableSinceMillis >= 0 && now - s.unwritableSinceMillis > config.slowClientTimeoutMs()) {
        s.closed = true;
        sessions.remove(s);
        s.ws.close((short) 1008, "too slow: unwritable for over " + config.slowClientTimeoutMs() + " ms");
      }
    }
  }

  // --- clients --------------------------------------------------------------------------------

  /** Takes over a new WebSocket; {@code onClose} runs when it closes (the HTTP side's bookkeeping). */
  public void attach(ServerWebSocket ws, boolean authorized, Runnable onClose) {
    ClientSession s = new ClientSession(ws, authorized);
    sessions.add(s);
    ws.textMessageHandler(text -> onMessage(s, text));
    ws.binaryMessageHandler(b -> s.send(Protocol.error(null, Codes.BAD_REQUEST, "binary messages are not accepted")));
    ws.closeHandler(v -> {
      s.closed = true;
      sessions.remove(s);
      onClose.run();
    });
    ws.exceptionHandler(t -> {
      // a broken socket is closed by Vert.x; the close handler forgets the session
    });
    s.send(new JsonObject().put("type", "welcome").put("version", Protocol.VERSION).put("authorized", authorized)
        .put("jobs", new JsonArray(jobs.values().stream().map(j -> j.status).toList())));
  }

  private void onMessage(ClientSession s, String text) {
    ClientMessage m;
    try {
      m = Protocol.parse(text, config.maxMessageBytes());
    } catch (ProtocolException e) {
      s.send(Protocol.error(e.id(), e.code(), e.getMessage()));
      return;
    }
    try {
      handle(s, m);
    } catch (ProtocolException e) {
      s.send(Protocol.error(m.id(), e.code(), e.getMessage()));
    }
  }

  private void handle(ClientSession s, ClientMessage m) {
    switch (m) {
      case Protocol.Hello h -> {
        if (h.token() != null) {
          if (!h.token().equals(config.token())) {
            throw new ProtocolException(Codes.UNAUTHORIZED, "wrong token", h.id());
          }
          s.authorized = true;
        }
        s.send(reply("hello", h.id()).put("version", Protocol.VERSION).put("authorized", s.authorized));
      }
      case Protocol.Subscribe sub -> subscribe(s, sub);
      case Protocol.Unsubscribe u -> {
        JobStream js = find(u.job(), u.id());
        s.unsubscribe(js.num);
        s.send(reply("unsubscribed", u.id()).put("job", js.num));
      }
      case Protocol.Start st -> {
        requireToken(s, st.id());
        JsonObject cmd = new JsonObject().put("op", "start");
        if (st.preset() != null) {
          cmd.put("preset", st.preset());
        } else {
          cmd.put("spec", st.spec());
        }
        if (st.epochs() != null) {
          cmd.put("epochs", st.epochs());
        }
        forward(s, st.id(), "started", cmd);
      }
      case Protocol.Control c -> {
        requireToken(s, c.id());
        forward(s, c.id(), c.action() + (c.action().endsWith("e") ? "d" : "ed"),
            new JsonObject().put("op", c.action()).put("job", find(c.job(), c.id()).id()));
      }
      case Protocol.SetSetting set -> {
        requireToken(s, set.id());
        forward(s, set.id(), "set", new JsonObject().put("op", "set").put("job", find(set.job(), set.id()).id())
            .put("key", set.key()).put("value", set.value()));
      }
      case Protocol.ModelRequest r -> {
        if (config.watchRequiresToken()) {
          requireToken(s, r.id());
        }
        JsonObject cmd = r.body().copy().put("op", r.op()).put("job", find(r.job(), r.id()).id());
        cmd.remove("type");
        forward(s, r.id(), r.op() + "d", cmd);
      }
      case Protocol.Ping p -> s.send(reply("pong", p.id()));
    }
  }

  private void subscribe(ClientSession s, Protocol.Subscribe sub) {
    if (config.watchRequiresToken()) {
      requireToken(s, sub.id());
    }
    JobStream js = find(sub.job(), sub.id());
    // Points not yet flushed go to the existing subscribers now; the newcomer gets them in its history.
    flushLoss();
    s.subscriptions.put(js.num, EnumSet.copyOf(sub.streams().isEmpty() ? EnumSet.allOf(Stream.class) : sub.streams()));
    s.send(reply("subscribed", sub.id()).put("job", js.status)
        .put("streams", new JsonArray(sub.streams().stream().map(Enum::name).toList())));
    loadFromDiskIfNeeded(js).onComplete(done -> {
      if (s.closed) {
        return;
      }
      if (s.wants(js.num, Stream.loss)) {
        s.send(js.historyMessage());
      }
      for (FrameKind kind : FrameKind.values()) {
        FrameMessage latest = js.latest.get(kind);
        if (latest != null && s.wants(js.num, Stream.valueOf(kind.wireName()))) {
          if (latest.frame().plane() != null) {
            s.send(js.planeMessage());
          }
          s.offerFrame(latest);
        }
      }
    });
  }

  /** A past run's history lives in its metrics.csv; read it (off the event loop) on first subscribe. */
  private Future<Void> loadFromDiskIfNeeded(JobStream js) {
    String status = js.status.getString("status");
    if (js.loadedFromDisk || !js.loss.isEmpty() || "running".equals(status) || "paused".equals(status)
        || "queued".equals(status)) {
      return Future.succeededFuture();
    }
    js.loadedFromDisk = true;
    Path csv = config.runsDir().resolve(js.id()).resolve("metrics.csv");
    return vertx.<List<String>>executeBlocking(() -> Files.exists(csv) ? Files.readAllLines(csv) : List.of())
        .map(lines -> {
          if (lines.isEmpty()) {
            return (Void) null;
          }
          String[] header = lines.getFirst().split(",", -1);
          for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            if (f.length != header.length) {
              continue;
            }
            JsonObject terms = new JsonObject();
            for (int i = 2; i < header.length - 3; i++) {
              if (!f[i].isEmpty()) {
                terms.put(header[i], Double.parseDouble(f[i]));
              }
            }
            js.loss.add(new JsonObject().put("step", Long.parseLong(f[0])).put("epoch", Integer.parseInt(f[1]))
                .put("terms", terms));
            if (!f[header.length - 3].isEmpty()) {
              js.addTest(Integer.parseInt(f[1]), Long.parseLong(f[0]), Double.parseDouble(f[header.length - 3]));
            }
          }
          return (Void) null;
        }).recover(t -> Future.<Void>succeededFuture());
  }

  private void forward(ClientSession s, String id, String replyType, JsonObject command) {
    trainer(command).onComplete(ar -> {
      if (ar.succeeded()) {
        s.send(reply(replyType, id).put("result", ar.result()));
      } else {
        s.send(Protocol.error(id, code(ar.cause()), ar.cause().getMessage()));
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
        default -> "internal";
      };
    }
    return "internal";
  }

  private Future<JsonObject> trainer(JsonObject command) {
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

  private static JsonObject reply(String type, String id) {
    JsonObject r = new JsonObject().put("type", type);
    if (id != null) {
      r.put("id", id);
    }
    return r;
  }
}
