package dev.latentstream.gateway;

import dev.latentstream.bus.RemoteRunFiles;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.stream.StreamHub;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * The REST API under {@code /api} (see the table in {@code web/api/protocol.md}). Job state lives
 * in {@link TrainerVerticle}, reached over the event bus; frames come from the {@link StreamHub}.
 * Anything that changes state needs the token; with {@code watchRequiresToken} every route but the
 * protocol documents does. File routes resolve only fixed names inside a job's run directory, so no
 * request can reach outside it. Runs on the HTTP verticle's event loop: file work is asynchronous
 * or on a worker.
 */
final class JobsApi {

  private final Vertx vertx;
  private final ServerConfig config;
  private final ServerInfo info;
  private final StreamHub hub;
  private final Gateway gateway;
  private final TrainerRoutes routes;

  /** A run's files from the trainer node, for a gateway node that does not share its disk. */
  private final RemoteRunFiles remoteFiles;

  /**
   * The largest run file (a checkpoint, a long run's metrics) a gateway relays from a trainer node.
   */
  static final long MAX_RELAYED_BYTES = 1L << 30;

  JobsApi(
      Vertx vertx,
      ServerConfig config,
      ServerInfo info,
      StreamHub hub,
      Gateway gateway,
      TrainerRoutes routes) {
    this.gateway = gateway;
    this.routes = routes;
    this.vertx = vertx;
    this.config = config;
    this.info = info;
    this.hub = hub;
    this.remoteFiles = new RemoteRunFiles(routes);
  }

  void mount(Router router) {
    router
        .get("/api/protocol.md")
        .handler(rc -> document(rc, "protocol.md", "text/markdown; charset=utf-8"));
    router
        .get("/api/asyncapi.yaml")
        .handler(rc -> document(rc, "asyncapi.yaml", "application/yaml; charset=utf-8"));
    router
        .route("/api/*")
        .handler(BodyHandler.create(false).setBodyLimit(config.maxMessageBytes()));
    if (config.watchRequiresToken()) {
      router
          .route("/api/*")
          .handler(
              rc -> {
                if (authorized(rc)) {
                  rc.next();
                }
              });
    }
    // Every instance's clients, not just this event loop's.
    router
        .get("/api/info")
        .handler(
            rc ->
                gateway
                    .streamStats()
                    .onComplete(
                        ar ->
                            json(
                                rc,
                                ar.succeeded()
                                    ? info.toJson().mergeIn(ar.result())
                                    : info.toJson().mergeIn(hub.stats()))));
    router.get("/api/presets").handler(this::presets);
    // From the gateway's own view of the jobs: listing never waits on (or fails with) a trainer
    // node.
    router.get("/api/jobs").handler(rc -> json(rc, hub.jobStatuses()));
    router.post("/api/jobs").handler(this::start);
    router
        .get("/api/jobs/:id")
        .handler(
            rc ->
                trainer(
                    rc,
                    get(rc),
                    r -> {
                      r.remove("runDir");
                      json(rc, r);
                    }));
    router.delete("/api/jobs/:id").handler(rc -> control(rc, TrainerCommand.Action.DELETE));
    router.post("/api/jobs/:id/settings").handler(this::setting);
    router
        .post("/api/jobs/:id/:action")
        .handler(
            rc -> {
              String action = rc.pathParam("action");
              if (!List.of("pause", "resume", "stop").contains(action)) {
                error(rc, 404, "unknown action '" + action + "' (pause, resume, stop, settings)");
                return;
              }
              control(rc, TrainerCommand.Action.fromWireName(action));
            });
    router.get("/api/jobs/:id/metrics").handler(this::metrics);
    router
        .get("/api/jobs/:id/frames")
        .handler(
            rc ->
                trainer(
                    rc,
                    get(rc),
                    job ->
                        hub.frameIndex(job.getString("id"))
                            .onComplete(ar -> json(rc, ar.result()))));
    router.get("/api/jobs/:id/frames/:file").handler(this::frame);
    router.get("/api/jobs/:id/checkpoint").handler(this::checkpoint);
    router.get("/api/jobs/:id/model.safetensors").handler(rc -> model(rc, "safetensors"));
    router.get("/api/jobs/:id/model.pt").handler(rc -> model(rc, "pt"));
    router
        .route("/api/*")
        .handler(
            rc ->
                error(
                    rc,
                    404,
                    "no such API route: " + rc.request().method() + " " + rc.request().path()));
  }

  private static TrainerCommand get(RoutingContext rc) {
    return new TrainerCommand.GetJob(rc.pathParam("id"));
  }

  private void start(RoutingContext rc) {
    if (!authorized(rc)) {
      return;
    }
    JsonObject body =
        jsonBody(
            rc, "{\"preset\": \"vae-fashion\"} or {\"spec\": {...}}, optionally with \"epochs\"");
    if (body == null) {
      return;
    }
    if (!knownKeys(rc, body, "preset", "spec", "epochs", "sweep")) {
      return;
    }
    Object preset = body.getValue("preset");
    Object spec = body.getValue("spec");
    Object epochs = body.getValue("epochs");
    if ((preset == null) == (spec == null)
        || (preset != null && !(preset instanceof String))
        || (spec != null && !(spec instanceof JsonObject))) {
      error(
          rc,
          400,
          "give exactly one of \"preset\" (a name from "
              + config.jobsDir()
              + ") or \"spec\" (an object)");
      return;
    }
    if (epochs != null
        && (!(epochs instanceof Number n)
            || n.doubleValue() != n.intValue()
            || n.intValue() < 1
            || n.intValue() > JobConfigs.MAX_EPOCHS)) {
      error(
          rc,
          400,
          "\"epochs\" must be a whole number from 1 to "
              + JobConfigs.MAX_EPOCHS
              + ", got "
              + epochs);
      return;
    }
    Object sweep = body.getValue("sweep");
    if (sweep != null && !(sweep instanceof JsonObject)) {
      error(rc, 400, "\"sweep\" must be an object of key: [values], e.g. {\"beta\": [1, 4]}");
      return;
    }
    TrainerCommand.Start cmd =
        new TrainerCommand.Start(
            (String) preset,
            (JsonObject) spec,
            epochs == null ? null : ((Number) epochs).intValue(),
            (JsonObject) sweep);
    trainer(
        rc,
        cmd,
        r -> {
          rc.response().setStatusCode(201);
          json(rc, r);
        });
  }

  private void control(RoutingContext rc, TrainerCommand.Action action) {
    if (authorized(rc)) {
      trainer(rc, new TrainerCommand.Control(action, rc.pathParam("id")), r -> json(rc, r));
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
    if (!knownKeys(rc, body, "key", "value")) {
      return;
    }
    if (!(body.getValue("key") instanceof String key)
        || !(body.getValue("value") instanceof Number value)
        || !Double.isFinite(value.doubleValue())) {
      error(
          rc,
          400,
          "settings need \"key\" (a string) and \"value\" (a number), e.g. {\"key\": \"lr\", \"value\": 0.0005}");
      return;
    }
    trainer(
        rc, new TrainerCommand.Set(rc.pathParam("id"), key, value.doubleValue()), r -> json(rc, r));
  }

  private void metrics(RoutingContext rc) {
    boolean wantsJson =
        "json".equals(rc.queryParams().get("format"))
            || String.valueOf(rc.request().getHeader("Accept")).contains("application/json");
    trainer(
        rc,
        get(rc),
        job -> {
          String csv = Path.of(job.getString("runDir")).resolve(MetricsCsv.FILE).toString();
          vertx
              .fileSystem()
              .exists(csv)
              .onComplete(
                  exists -> {
                    boolean here = exists.succeeded() && exists.result();
                    if (here && !wantsJson) {
                      rc.response()
                          .putHeader("Content-Type", "text/csv; charset=utf-8")
                          .sendFile(csv);
                      return;
                    }
                    Future<Buffer> bytes =
                        here ? vertx.fileSystem().readFile(csv) : relayed(job, MetricsCsv.FILE);
                    bytes.onComplete(
                        read -> {
                          if (read.failed()) {
                            error(
                                rc,
                                502,
                                "cannot read "
                                    + MetricsCsv.FILE
                                    + ": "
                                    + read.cause().getMessage());
                          } else if (read.result() == null) {
                            error(rc, 404, "job " + job.getString("id") + " has no metrics yet");
                          } else if (!wantsJson) {
                            rc.response()
                                .putHeader("Content-Type", "text/csv; charset=utf-8")
                                .end(read.result());
                          } else {
                            vertx
                                .executeBlocking(
                                    () -> csvColumns(MetricsCsv.parse(read.result().getBytes())))
                                .onComplete(
                                    ar -> {
                                      if (ar.failed()) {
                                        error(
                                            rc,
                                            500,
                                            "cannot read "
                                                + MetricsCsv.FILE
                                                + ": "
                                                + ar.cause().getMessage());
                                      } else {
                                        json(rc, ar.result());
                                      }
                                    });
                          }
                        });
                  });
        });
  }

  /**
   * A run file this machine does not have: from the trainer node when this is a gateway node (its
   * disk is not the trainer's), else none (null).
   */
  private Future<Buffer> relayed(JsonObject job, String name) {
    if (config.role() != ServerConfig.Role.gateway) {
      return Future.succeededFuture(null);
    }
    return remoteFiles
        .read(job.getString("id"), name, MAX_RELAYED_BYTES)
        .map(b -> b == null ? null : Buffer.buffer(b));
  }

  /** A run file from this machine's disk when it is there, else {@link #relayed}. */
  private Future<Buffer> runFile(JsonObject job, String name) {
    String local = Path.of(job.getString("runDir")).resolve(name).toString();
    return vertx
        .fileSystem()
        .exists(local)
        .recover(t -> Future.succeededFuture(false))
        .compose(here -> here ? vertx.fileSystem().readFile(local) : relayed(job, name));
  }

  /**
   * {@code metrics.csv} as columns: numbers, except the {@code setting} column; empty cells are
   * null.
   */
  static JsonObject csvColumns(MetricsCsv.Table csv) {
    JsonObject columns = new JsonObject();
    csv.byColumn().forEach((name, values) -> columns.put(name, new JsonArray(values)));
    return columns;
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
      step =
          rc.queryParams().contains("step") ? Long.parseLong(rc.queryParams().get("step")) : null;
    } catch (NumberFormatException e) {
      error(rc, 400, "\"step\" must be a whole number");
      return;
    }
    trainer(
        rc,
        get(rc),
        job ->
            hub.frameAt(job.getString("id"), kind, step)
                .onComplete(
                    ar -> {
                      switch (ar.result()) {
                        case StreamHub.FrameLookup.Found f ->
                            rc.response()
                                .putHeader("Content-Type", "image/png")
                                .putHeader("X-Step", Long.toString(f.frame().frame().step()))
                                .putHeader("X-Frame-Source", "stream")
                                .putHeader("Cache-Control", "no-store")
                                .end(Buffer.buffer(f.frame().frame().png()));
                        case StreamHub.FrameLookup.NoneKept n when step != null ->
                            epochImage(rc, job, kind, step);
                        case null, default ->
                            error(
                                rc,
                                404,
                                "job "
                                    + job.getString("id")
                                    + " has no "
                                    + kind.wireName()
                                    + " frame yet");
                      }
                    }));
  }

  /**
   * No frame at or before {@code step} is kept in memory: the image saved at the end of the last
   * epoch at or before it, labelled as such ({@code X-Frame-Source: epoch}), else 404 "not kept".
   * Never a later picture.
   */
  private void epochImage(RoutingContext rc, JsonObject job, FrameKind kind, long step) {
    long perEpoch = job.getLong("batchesPerEpoch", 0L);
    long epoch = perEpoch > 0 ? step / perEpoch : 0;
    if (epoch < 1) {
      error(rc, 404, "not kept: no " + kind.wireName() + " frame at or before step " + step);
      return;
    }
    runFile(job, RunLayout.frameFile(kind, (int) epoch))
        .onComplete(
            read -> {
              if (read.failed() || read.result() == null) {
                error(
                    rc,
                    404,
                    "not kept: no " + kind.wireName() + " frame at or before step " + step);
                return;
              }
              rc.response()
                  .putHeader("Content-Type", "image/png")
                  .putHeader("X-Frame-Source", "epoch")
                  .putHeader("X-Epoch", Long.toString(epoch))
                  .putHeader("X-Step", Long.toString(epoch * perEpoch))
                  .putHeader("Cache-Control", "no-store")
                  .end(read.result());
            });
  }

  private void checkpoint(RoutingContext rc) {
    if (!authorized(rc)) {
      return;
    }
    trainer(
        rc,
        get(rc),
        job -> {
          String file = Path.of(job.getString("runDir")).resolve(RunLayout.CHECKPOINT).toString();
          vertx
              .fileSystem()
              .exists(file)
              .onComplete(
                  ar -> {
                    if (ar.succeeded() && ar.result()) {
                      download(rc, job).sendFile(file);
                      return;
                    }
                    relayed(job, RunLayout.CHECKPOINT)
                        .onComplete(
                            read -> {
                              if (read.failed()) {
                                error(
                                    rc,
                                    502,
                                    "cannot read the checkpoint from the trainer node: "
                                        + read.cause().getMessage());
                              } else if (read.result() == null) {
                                error(
                                    rc,
                                    404,
                                    "job " + job.getString("id") + " has no checkpoint yet");
                              } else {
                                download(rc, job).end(read.result());
                              }
                            });
                  });
        });
  }

  /**
   * The job's model from its latest checkpoint, exported by the trainer side ({@code
   * ?part=decoder}: the decoder only). The ETag is the checkpoint's step and the part, so a client
   * polling with {@code If-None-Match} gets 304 until the next checkpoint. Needs the token unless
   * {@code openModelDownloads}.
   */
  private void model(RoutingContext rc, String format) {
    if (!config.openModelDownloads() && !authorized(rc)) {
      return;
    }
    String part = rc.queryParams().contains("part") ? rc.queryParams().get("part") : "all";
    Integer epoch;
    Long step;
    try {
      RunLayout.checkModel(format, part);
      Long e = wholeParam(rc, "epoch", 1, JobConfigs.MAX_EPOCHS);
      step = wholeParam(rc, "step", 0, Long.MAX_VALUE);
      if (e != null && step != null) {
        throw new IllegalArgumentException("give \"epoch\" or \"step\", not both");
      }
      epoch = e == null ? null : e.intValue();
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    }
    trainer(
        rc,
        new TrainerCommand.ExportModel(rc.pathParam("id"), format, part, epoch, step),
        exported -> {
          String etag = "\"" + exported.getLong("step") + "-" + part + "\"";
          String ifNoneMatch = rc.request().getHeader("If-None-Match");
          if (ifNoneMatch != null
              && java.util.Arrays.stream(ifNoneMatch.split(","))
                  .map(String::trim)
                  .anyMatch(t -> t.equals(etag) || t.equals("W/" + etag) || t.equals("*"))) {
            rc.response()
                .setStatusCode(304)
                .putHeader("ETag", etag)
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Step", Long.toString(exported.getLong("step")))
                .end();
            return;
          }
          String name = exported.getString("file");
          String local = Path.of(exported.getString("runDir")).resolve(name).toString();
          String id = exported.getString("job");
          rc.response()
              .putHeader("Content-Type", "application/octet-stream")
              .putHeader(
                  "Content-Disposition",
                  "attachment; filename=\""
                      + id
                      + (part.equals("all") ? "" : "-" + part)
                      + "."
                      + format
                      + "\"")
              .putHeader("ETag", etag)
              .putHeader("Cache-Control", "no-cache")
              .putHeader("X-Step", Long.toString(exported.getLong("step")))
              .putHeader("X-Epoch", Long.toString(exported.getLong("epoch")));
          vertx
              .fileSystem()
              .exists(local)
              .onComplete(
                  ar -> {
                    if (ar.succeeded() && ar.result()) {
                      rc.response().sendFile(local);
                      return;
                    }
                    relayed(new JsonObject().put("id", id), name)
                        .onComplete(
                            read -> {
                              if (read.failed()) {
                                error(
                                    rc,
                                    502,
                                    "cannot read the model from the trainer node: "
                                        + read.cause().getMessage());
                              } else if (read.result() == null) {
                                error(
                                    rc,
                                    404,
                                    "job " + id + " has no exported model any more; try again");
                              } else {
                                rc.response().end(read.result());
                              }
                            });
                  });
        });
  }

  /**
   * Query parameter {@code name} as a whole number from {@code min} to {@code max}; null when
   * absent.
   *
   * @throws IllegalArgumentException naming the parameter and the range
   */
  private static Long wholeParam(RoutingContext rc, String name, long min, long max) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return null;
    }
    try {
      long n = Long.parseLong(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException notANumber) {
      // said below
    }
    throw new IllegalArgumentException(
        "\"" + name + "\" must be a whole number from " + min + " to " + max + ", got '" + v + "'");
  }

  private static io.vertx.core.http.HttpServerResponse download(RoutingContext rc, JsonObject job) {
    return rc.response()
        .putHeader("Content-Type", "application/octet-stream")
        .putHeader(
            "Content-Disposition", "attachment; filename=\"" + job.getString("id") + ".pt\"");
  }

  private void presets(RoutingContext rc) {
    vertx
        .executeBlocking(
            () -> {
              JsonArray out = new JsonArray();
              try (var files = Files.list(config.jobsDir())) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                  try {
                    var job = JobConfigs.load(f);
                    out.add(
                        new JsonObject()
                            .put("name", job.name())
                            .put("description", job.description())
                            .put("spec", new JsonObject(JobConfigs.toJson(job))));
                  } catch (RuntimeException e) {
                    out.add(
                        new JsonObject()
                            .put("name", f.getFileName().toString())
                            .put("error", e.getMessage()));
                  }
                }
              }
              return out;
            })
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                json(rc, ar.result());
              } else {
                error(
                    rc,
                    500,
                    "cannot list presets in " + config.jobsDir() + ": " + ar.cause().getMessage());
              }
            });
  }

  /**
   * A protocol document (prose or AsyncAPI): packaged with the page under webroot/, else read from
   * web/api/ on disk.
   */
  private void document(RoutingContext rc, String name, String contentType) {
    vertx
        .executeBlocking(
            () -> {
              try (var in = JobsApi.class.getResourceAsStream("/webroot/api/" + name)) {
                if (in != null) {
                  return in.readAllBytes();
                }
              }
              Path onDisk = Path.of("web/api", name);
              return Files.isRegularFile(onDisk) ? Files.readAllBytes(onDisk) : null;
            })
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() != null) {
                rc.response()
                    .putHeader("Content-Type", contentType)
                    .end(Buffer.buffer(ar.result()));
              } else {
                error(
                    rc,
                    404,
                    "the protocol document "
                        + name
                        + " is not packaged (build with ./mvnw package)");
              }
            });
  }

  // --- helpers --------------------------------------------------------------------------------

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

  /**
   * True when {@code body} has only the {@code known} keys; else answers 400 naming the first other
   * one.
   */
  private static boolean knownKeys(RoutingContext rc, JsonObject body, String... known) {
    List<String> allowed = List.of(known);
    for (String key : body.fieldNames()) {
      if (!allowed.contains(key)) {
        error(
            rc,
            400,
            "unknown key \""
                + (key.length() > 64 ? key.substring(0, 64) + "..." : key)
                + "\" (known: "
                + String.join(", ", allowed)
                + ")");
        return false;
      }
    }
    return true;
  }

  /**
   * True when the request carries the token ({@code Authorization: Bearer} or {@code ?token=});
   * else answers 401.
   */
  private boolean authorized(RoutingContext rc) {
    String auth = rc.request().getHeader("Authorization");
    String given =
        auth != null && auth.startsWith("Bearer ")
            ? auth.substring(7).trim()
            : rc.queryParams().get("token");
    if (config.tokenMatches(given)) {
      return true;
    }
    error(rc, 401, "this needs the token: send 'Authorization: Bearer <token>'");
    return false;
  }

  /**
   * Sends {@code command} to the trainer; a failed reply becomes an error response with its code.
   */
  private void trainer(RoutingContext rc, TrainerCommand command, Consumer<JsonObject> onReply) {
    Future<JsonObject> reply = routes.request(command);
    reply.onComplete(
        ar -> {
          if (ar.succeeded()) {
            onReply.accept(ar.result());
          } else if (ar.cause() instanceof ReplyException r
              && r.failureCode() >= 400
              && r.failureCode() < 600) {
            error(rc, r.failureCode(), r.getMessage());
          } else if (ar.cause() instanceof ReplyException r
              && r.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
            error(
                rc,
                503,
                "no trainer node is answering ("
                    + r.failureType().name().toLowerCase(java.util.Locale.ROOT)
                    + "); try again when it is back");
          } else {
            error(rc, 500, String.valueOf(ar.cause().getMessage()));
          }
        });
  }

  static void json(RoutingContext rc, Object body) {
    if (!rc.response().ended()) {
      rc.response()
          .putHeader("Content-Type", "application/json")
          .end(body instanceof JsonArray a ? a.encode() : ((JsonObject) body).encode());
    }
  }

  static void error(RoutingContext rc, int status, String message) {
    if (!rc.response().ended()) {
      rc.response()
          .setStatusCode(status)
          .putHeader("Content-Type", "application/json")
          .end(
              new JsonObject()
                  .put("error", new JsonObject().put("status", status).put("message", message))
                  .encode());
    }
  }
}
