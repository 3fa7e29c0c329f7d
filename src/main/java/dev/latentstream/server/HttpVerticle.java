package dev.latentstream.server;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.StreamHub;
import dev.latentstream.train.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Serves the web page, the REST API and the {@code /ws} endpoint on one event loop. Anything that
 * changes state needs the token; watching is open unless {@code watchRequiresToken}. File endpoints
 * resolve only known names inside a job's run directory, so no request can reach outside it.
 */
public final class HttpVerticle extends VerticleBase {

  static final Set<String> ACTIONS = Set.of("pause", "resume", "stop");

  private final ServerConfig config;
  private final ServerInfo info;
  private StreamHub hub;
  private HttpServer server;
  private final Map<String, Integer> connectionsPerIp = new HashMap<>();

  public HttpVerticle(ServerConfig config, ServerInfo info) {
    this.config = config;
    this.info = info;
  }

  public int actualPort() {
    return server.actualPort();
  }

  public StreamHub hub() {
    return hub;
  }

  @Override
  public Future<?> start() {
    hub = new StreamHub(vertx, config);
    Router router = Router.router(vertx);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(config.maxMessageBytes()));
    router.get("/api/info").handler(rc -> json(rc, info.toJson().put("clients", hub.clients())));
    router.get("/api/presets").handler(this::presets);
    router.get("/api/protocol.md").handler(rc -> sendResource(rc, "/webroot/api/protocol.md", "text/markdown; charset=utf-8"));
    router.get("/api/jobs").handler(rc -> trainer(rc, new JsonObject().put("op", "list"),
        r -> json(rc, r.getJsonArray("jobs"))));
    router.post("/api/jobs").handler(this::startJob);
    router.get("/api/jobs/:id").handler(rc -> trainer(rc, op("get", rc), r -> {
      r.remove("runDir");
      json(rc, r);
    }));
    router.delete("/api/jobs/:id").handler(rc -> {
      if (authorized(rc)) {
        trainer(rc, op("delete", rc), r -> json(rc, r));
      }
    });
    router.post("/api/jobs/:id/settings").handler(this::setting);
    router.post("/api/jobs/:id/:action").handler(this::action);
    router.get("/api/jobs/:id/metrics").handler(this::metrics);
    router.get("/api/jobs/:id/frames").handler(rc -> trainer(rc, op("get", rc),
        r -> json(rc, hub.frameIndex(r.getString("id")))));
    router.get("/api/jobs/:id/frames/:file").handler(this::frame);
    router.get("/api/jobs/:id/checkpoint").handler(this::checkpoint);
    router.route("/api/*").handler(rc -> error(rc, 404, "no such API route: " + rc.request().method() + " " + rc.request().path()));
    router.route("/*").handler(staticFiles());
    router.errorHandler(500, rc -> error(rc, 500, "internal error: " + rc.failure()));

    return hub.start().compose(v -> vertx.createHttpServer(new HttpServerOptions().setHost(config.host())
            .setPort(config.port()).setMaxWebSocketMessageSize(4 * config.maxMessageBytes())
            .setMaxWebSocketFrameSize(Math.min(config.maxMessageBytes(), 65536)))
        .webSocketHandshakeHandler(this::handshake).webSocketHandler(this::attach)
        .requestHandler(router).listen()).map(s -> {
          server = s;
          return s;
        });
  }

  /** The built page, packaged by the Maven build under webroot/ on the classpath. */
  private StaticHandler staticFiles() {
    return StaticHandler.create("webroot").setCachingEnabled(false).setIndexPage("index.html");
  }

  private static JsonObject op(String op, RoutingContext rc) {
    return new JsonObject().put("op", op).put("job", rc.pathParam("id"));
  }

  private void startJob(RoutingContext rc) {
    if (!authorized(rc)) {
      return;
    }
    JsonObject body = jsonBody(rc, "{\"preset\": \"vae-fashion\"} or {\"spec\": {...}}");
    if (body == null) {
      return;
    }
    JsonObject cmd = new JsonObject().put("op", "start");
    for (String k : new String[] {"preset", "spec", "epochs"}) {
      if (body.containsKey(k)) {
        cmd.put(k, body.getValue(k));
      }
    }
    trainer(rc, cmd, r -> {
      rc.response().setStatusCode(201);
      json(rc, r);
    });
  }

  private void action(RoutingContext rc) {
    String action = rc.pathParam("action");
    if (!ACTIONS.contains(action)) {
      error(rc, 404, "unknown action '" + action + "' (pause, resume, stop, settings)");
      return;
    }
    if (authorized(rc)) {
      trainer(rc, op(action, rc), r -> json(rc, r));
    }
  }

  private void setting(RoutingContext rc) {
    if (!authorized(rc)) {
      return;
    }
    JsonObject body = jsonBody(rc, "{\"key\": \"lr\", \"value\": 0.0005}");
    if (body == null) {
      return;
    }
    trainer(rc, op("set", rc).put("key", body.getValue("key")).put("value", body.getValue("value")), r -> json(rc, r));
  }

  /** The request body as a JSON object, or null after answering 400 with the expected shape. */
  private static JsonObject jsonBody(RoutingContext rc, String expected) {
    JsonObject body;
    try {
      body = rc.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      error(rc, 400, "the body must be a JSON object: " + expected);
    }
    return body;
  }

  private void metrics(RoutingContext rc) {
    trainer(rc, op("get", rc), job -> {
      Path csv = Path.of(job.getString("runDir")).resolve("metrics.csv");
      vertx.fileSystem().readFile(csv.toString()).onComplete(ar -> {
        if (ar.failed()) {
          error(rc, 404, "job " + job.getString("id") + " has no metrics yet");
          return;
        }
        boolean wantsJson = "json".equals(rc.queryParams().get("format"))
            || (rc.request().getHeader("Accept") != null && rc.request().getHeader("Accept").contains("application/json"));
        if (!wantsJson) {
          rc.response().putHeader("Content-Type", "text/csv; charset=utf-8").end(ar.result());
          return;
        }
        String[] lines = ar.result().toString().split("\n");
        String[] header = lines[0].split(",", -1);
        JsonObject columns = new JsonObject();
        for (String h : header) {
          columns.put(h, new JsonArray());
        }
        for (int i = 1; i < lines.length; i++) {
          String[] f = lines[i].split(",", -1);
          for (int c = 0; c < header.length && c < f.length; c++) {
            Object v = f[c].isEmpty() ? null : header[c].equals("setting") ? f[c] : (Object) Double.parseDouble(f[c]);
            columns.getJsonArray(header[c]).add(v);
          }
        }
        json(rc, columns);
      });
    });
  }

  private void frame(RoutingContext rc) {
    String file = rc.pathParam("file");
    if (!file.matches("(recon|samples|latent|manifold)\\.png")) {
      error(rc, 404, "frames are recon.png, samples.png, latent.png or manifold.png");
      return;
    }
    FrameKind kind = FrameKind.fromWireName(file.substring(0, file.length() - 4));
    Long step;
    try {
      step = rc.queryParams().contains("step") ? Long.parseLong(rc.queryParams().get("step")) : null;
    } catch (NumberFormatException e) {
      error(rc, 400, "\"step\" must be a whole number");
      return;
    }
    trainer(rc, op("get", rc), job -> {
      FrameMessage m = hub.frame(job.getString("id"), kind, step);
      if (m != null) {
        rc.response().putHeader("Content-Type", "image/png").putHeader("X-Step", Long.toString(m.frame().step()))
            .putHeader("Cache-Control", "no-store").end(Buffer.buffer(m.frame().png()));
        return;
      }
      Path dir = Path.of(job.getString("runDir"));
      String prefix = switch (kind) {
        case RECON -> "reconst";
        case SAMPLES -> "sampled";
        case LATENT -> "latent";
        case MANIFOLD -> "manifold";
      };
      for (int e = job.getInteger("epoch"); e >= 1; e--) {
        Path png = dir.resolve(prefix + "-" + e + ".png");
        if (Files.isRegularFile(png)) {
          rc.response().putHeader("Content-Type", "image/png").sendFile(png.toString());
          return;
        }
      }
      error(rc, 404, "job " + job.getString("id") + " has no " + kind.wireName() + " frame yet");
    });
  }

  private void checkpoint(RoutingContext rc) {
    if (!authorized(rc)) {
      return;
    }
    trainer(rc, op("get", rc), job -> {
      Path file = Path.of(job.getString("runDir")).resolve("checkpoint").resolve("latest.pt");
      if (!Files.isRegularFile(file)) {
        error(rc, 404, "job " + job.getString("id") + " has no checkpoint yet");
        return;
      }
      rc.response().putHeader("Content-Type", "application/octet-stream")
          .putHeader("Content-Disposition", "attachment; filename=\"" + job.getString("id") + ".pt\"")
          .sendFile(file.toString());
    });
  }

  private void presets(RoutingContext rc) {
    vertx.<JsonArray>executeBlocking(() -> {
      JsonArray out = new JsonArray();
      try (var files = Files.list(config.jobsDir())) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
          try {
            var job = dev.latentstream.config.JobConfigs.load(f);
            out.add(new JsonObject().put("name", job.name()).put("description", job.description())
                .put("spec", new JsonObject(dev.latentstream.config.JobConfigs.toJson(job))));
          } catch (RuntimeException e) {
            out.add(new JsonObject().put("name", f.getFileName().toString()).put("error", e.getMessage()));
          }
        }
      }
      return out;
    }).onComplete(ar -> {
      if (ar.succeeded()) {
        json(rc, ar.result());
      } else {
        error(rc, 500, "cannot list presets in " + config.jobsDir() + ": " + ar.cause().getMessage());
      }
    });
  }

  /** WebSocket handshake on {@code /ws}: path, Origin and per-IP connection checks before accepting. */
  private void handshake(io.vertx.core.http.ServerWebSocketHandshake h) {
    if (!"/ws".equals(h.path())) {
      h.reject(404);
      return;
    }
    String origin = h.headers().get("Origin");
    String host = h.headers().get("Host");
    if (origin != null && !origin.equals("http://" + host) && !origin.equals("https://" + host)
        && !config.allowedOrigins().contains(origin)) {
      h.reject(403);
      return;
    }
    if (connectionsPerIp.getOrDefault(h.remoteAddress().host(), 0) >= config.maxConnectionsPerIp()) {
      h.reject(429);
      return;
    }
    if (config.watchRequiresToken() && !tokenIn(h.query())) {
      h.reject(401);
      return;
    }
    h.accept();
  }

  private void attach(io.vertx.core.http.ServerWebSocket ws) {
    String ip = ws.remoteAddress().host();
    connectionsPerIp.merge(ip, 1, Integer::sum);
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    hub.attach(ws, tokenIn(ws.query()), () -> connectionsPerIp.merge(ip, -1, (a, b) -> a + b <= 0 ? null : a + b));
  }

  private boolean tokenIn(String query) {
    if (query == null) {
      return false;
    }
    for (String part : query.split("&")) {
      if (part.startsWith("token=")) {
        return java.net.URLDecoder.decode(part.substring(6), java.nio.charset.StandardCharsets.UTF_8)
            .equals(config.token());
      }
    }
    return false;
  }

  private boolean hasToken(RoutingContext rc) {
    String auth = rc.request().getHeader("Authorization");
    String given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim() : rc.queryParams().get("token");
    return given != null && given.equals(config.token());
  }

  private boolean authorized(RoutingContext rc) {
    if (hasToken(rc)) {
      return true;
    }
    error(rc, 401, "this needs the token: send 'Authorization: Bearer <token>'");
    return false;
  }

  private void trainer(RoutingContext rc, JsonObject command, java.util.function.Consumer<JsonObject> onReply) {
    vertx.eventBus().<JsonObject>request(Addresses.TO_TRAINER, command).onComplete(ar -> {
      if (ar.succeeded()) {
        onReply.accept(ar.result().body());
      } else if (ar.cause() instanceof ReplyException r && r.failureCode() >= 400 && r.failureCode() < 600) {
        error(rc, r.failureCode(), r.getMessage());
      } else {
        error(rc, 500, String.valueOf(ar.cause().getMessage()));
      }
    });
  }

  static void json(RoutingContext rc, Object body) {
    if (!rc.response().ended()) {
      rc.response().putHeader("Content-Type", "application/json").end(
          body instanceof JsonArray a ? a.encode() : ((JsonObject) body).encode());
    }
  }

  static void error(RoutingContext rc, int status, String message) {
    if (!rc.response().ended()) {
      rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", new JsonObject().put("status", status).put("message", message)).encode());
    }
  }

  private static void sendResource(RoutingContext rc, String classpath, String type) {
    try (var in = HttpVerticle.class.getResourceAsStream(classpath)) {
      if (in == null) {
        error(rc, 404, "not found (is the web page built? run ./mvnw package)");
        return;
      }
      rc.response().putHeader("Content-Type", type).end(Buffer.buffer(in.readAllBytes()));
    } catch (java.io.IOException e) {
      error(rc, 500, e.getMessage());
    }
  }
}
