package dev.latentstream.gateway;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.runformat.RunLayout;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Model downloads: {@code /api/jobs/{id}/model.safetensors} and {@code model.pt}, exported by the
 * trainer side from the job's latest checkpoint (on a worker, once per checkpoint, never on the
 * trainer thread). An export up to {@link #IN_MEMORY_BYTES} (a page's decoder) is served from
 * {@link ModelBytes}, the same bytes to every request for its version; a larger one is streamed
 * from this machine's disk or relayed from the trainer node.
 *
 * <p>Threads: the HTTP verticle's event loop; file work is asynchronous.
 */
final class ModelDownloadsApi {

  /** The largest export held in memory; the default job's decoder is 1.3 MB. */
  static final long IN_MEMORY_BYTES = 16L << 20;

  private final ServerConfig config;
  private final Rest rest;
  private final ModelBytes held;

  ModelDownloadsApi(ServerConfig config, Rest rest, ModelBytes held) {
    this.config = config;
    this.rest = rest;
    this.held = held;
  }

  void mount(Router router) {
    router.get("/api/jobs/:id/model.safetensors").handler(rc -> model(rc, "safetensors"));
    router.get("/api/jobs/:id/model.pt").handler(rc -> model(rc, "pt"));
  }

  /**
   * The job's model from its latest checkpoint, exported by the trainer side ({@code
   * ?part=decoder}: the decoder only). The ETag is the checkpoint's step and the part, so a client
   * polling with {@code If-None-Match} gets 304 until the next checkpoint: the trainer side looks
   * at the checkpoint file's size and time, nothing more. Needs the token unless {@code
   * openModelDownloads}.
   */
  private void model(RoutingContext rc, String format) {
    if (!config.openModelDownloads() && !rest.authorized(rc)) {
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
      Rest.error(rc, 400, e.getMessage());
      return;
    }
    rest.trainer(
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
          String id = exported.getString("job");
          HttpServerResponse response = rc.response();
          response
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
          JsonObject job =
              new JsonObject().put("id", id).put("runDir", exported.getString("runDir"));
          String file = exported.getString("file");
          String missing = "job " + id + " has no exported model any more; try again";
          if (exported.getLong("size", Long.MAX_VALUE) > IN_MEMORY_BYTES) {
            rest.sendRunFile(rc, job, file, "the model", missing, rc::response);
            return;
          }
          String version =
              exported.getString("runDir") + "/" + file + "@" + exported.getLong("size");
          Context here = rc.vertx().getOrCreateContext();
          held.get(version, () -> rest.runFile(job, file))
              .onComplete(
                  ar -> {
                    if (Vertx.currentContext() == here) {
                      send(rc, response, ar, missing);
                    } else {
                      here.runOnContext(v -> send(rc, response, ar, missing));
                    }
                  });
        });
  }

  /** The held bytes, or the error a failed read (502) or a vanished file (404) calls for. */
  private static void send(
      RoutingContext rc, HttpServerResponse response, AsyncResult<Buffer> read, String missing) {
    if (read.failed()) {
      Rest.error(rc, 502, "cannot read the model: " + read.cause().getMessage());
    } else if (read.result() == null) {
      Rest.error(rc, 404, missing);
    } else {
      response.end(read.result());
    }
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
}
