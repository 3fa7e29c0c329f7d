package dev.latentstream.gateway;

import dev.latentstream.bus.RemoteRunFiles;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What every REST resource does the same way: checking the token, asking the trainer node that owns
 * a job (a failed reply becomes an error response with its status), reading a run file here or from
 * the trainer node, and answering in JSON with errors as {@code {"error": {status, message}}}.
 *
 * <p>Threads: the HTTP verticle's event loop; one per verticle instance, shared by its resources.
 */
final class Rest {

  private static final System.Logger LOG = System.getLogger(Rest.class.getName());

  /**
   * The largest run file (a checkpoint, a long run's metrics) a gateway relays from a trainer node.
   */
  static final long MAX_RELAYED_BYTES = 1L << 30;

  private final Vertx vertx;
  private final ServerConfig config;
  private final TrainerRoutes routes;

  /** A run's files from the trainer node, for a gateway node that does not share its disk. */
  private final RemoteRunFiles remoteFiles;

  Rest(Vertx vertx, ServerConfig config, TrainerRoutes routes) {
    this.vertx = vertx;
    this.config = config;
    this.routes = routes;
    this.remoteFiles = new RemoteRunFiles(routes);
  }

  static TrainerCommand getJob(RoutingContext rc) {
    return new TrainerCommand.GetJob(rc.pathParam("id"));
  }

  /**
   * A run file this machine does not have: from the trainer node when this is a gateway node (its
   * disk is not the trainer's), else none (null).
   */
  Future<Buffer> relayed(JsonObject job, String name) {
    if (config.role() != ServerConfig.Role.gateway) {
      return Future.succeededFuture(null);
    }
    return remoteFiles
        .read(job.getString("id"), name, MAX_RELAYED_BYTES)
        .map(b -> b == null ? null : Buffer.buffer(b));
  }

  /** A run file from this machine's disk when it is there, else {@link #relayed}. */
  Future<Buffer> runFile(JsonObject job, String name) {
    String local = Path.of(job.getString("runDir")).resolve(name).toString();
    return vertx
        .fileSystem()
        .exists(local)
        .recover(t -> Future.succeededFuture(false))
        .compose(here -> here ? vertx.fileSystem().readFile(local) : relayed(job, name));
  }

  /**
   * Sends run file {@code name} of {@code job} through {@code response} (which sets the headers):
   * streamed from this machine's disk when the run is here, else relayed from the trainer node. A
   * failed relay answers 502 naming {@code what}; a file the trainer node does not have, 404 with
   * {@code missing}.
   */
  void sendRunFile(
      RoutingContext rc,
      JsonObject job,
      String name,
      String what,
      String missing,
      Supplier<HttpServerResponse> response) {
    String local = Path.of(job.getString("runDir")).resolve(name).toString();
    vertx
        .fileSystem()
        .exists(local)
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result()) {
                response.get().sendFile(local);
                return;
              }
              relayed(job, name)
                  .onComplete(
                      read -> {
                        if (read.failed()) {
                          error(
                              rc,
                              502,
                              "cannot read "
                                  + what
                                  + " from the trainer node: "
                                  + read.cause().getMessage());
                        } else if (read.result() == null) {
                          error(rc, 404, missing);
                        } else {
                          response.get().end(read.result());
                        }
                      });
            });
  }

  /** The request body as a JSON object, or null after answering 400 with the expected shape. */
  static JsonObject jsonBody(RoutingContext rc, String expected) {
    JsonObject body;
    try {
      body = rc.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      Rest.error(rc, 400, "the body must be a JSON object: " + expected);
    }
    return body;
  }

  /**
   * True when {@code body} has only the {@code known} keys; else answers 400 naming the first other
   * one.
   */
  static boolean knownKeys(RoutingContext rc, JsonObject body, String... known) {
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
  boolean authorized(RoutingContext rc) {
    String auth = rc.request().getHeader("Authorization");
    String given =
        auth != null && auth.startsWith("Bearer ")
            ? auth.substring(7).trim()
            : rc.queryParams().get("token");
    if (config.tokenMatches(given)) {
      return true;
    }
    Rest.error(rc, 401, "this needs the token: send 'Authorization: Bearer <token>'");
    return false;
  }

  /**
   * Sends {@code command} to the trainer; a failed reply becomes an error response with its code.
   */
  void trainer(RoutingContext rc, TrainerCommand command, Consumer<JsonObject> onReply) {
    Future<JsonObject> reply = routes.request(command);
    reply.onComplete(
        ar -> {
          if (ar.succeeded()) {
            onReply.accept(ar.result());
          } else if (ar.cause() instanceof ReplyException r
              && r.failureCode() >= 400
              && r.failureCode() < 600) {
            Rest.error(rc, r.failureCode(), r.getMessage());
          } else if (ar.cause() instanceof ReplyException r
              && r.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
            error(
                rc,
                503,
                "no trainer node is answering ("
                    + r.failureType().name().toLowerCase(java.util.Locale.ROOT)
                    + "); try again when it is back");
          } else {
            Rest.error(rc, 500, String.valueOf(ar.cause().getMessage()));
          }
        });
  }

  /**
   * Failures the router raises itself (a body over the limit, a bad body) get the API's error shape
   * and no stack trace in the log; only a real fault (500) is logged, and its details stay in the
   * log.
   */
  static void errorReplies(Router router, ServerConfig config) {
    router.errorHandler(400, rc -> error(rc, 400, "bad request"));
    router.errorHandler(
        413,
        rc ->
            error(
                rc,
                413,
                "the body is larger than "
                    + config.maxMessageBytes()
                    + " bytes (maxMessageBytes)"));
    router.errorHandler(
        500,
        rc -> {
          LOG.log(
              System.Logger.Level.ERROR,
              "unexpected failure on " + rc.request().method() + " " + rc.request().path(),
              rc.failure());
          error(rc, 500, "internal error; see the server log");
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
