package dev.latentstream.gateway;

import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.stream.ServerMessage;
import dev.latentstream.stream.StreamHub;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.file.Path;

/**
 * A run's files under {@code /api/jobs/{id}/}: {@code metrics} (CSV, or columns as JSON), the kept
 * {@code frames} and their index, and the {@code checkpoint}. Each is read from this machine's disk
 * when the run is there, else relayed from the trainer node. Only fixed names inside the run
 * directory resolve, so no request reaches outside it.
 *
 * <p>Threads: the HTTP verticle's event loop; file work is asynchronous or on a worker.
 */
final class RunFilesApi {

  private final Vertx vertx;
  private final StreamHub hub;
  private final Rest rest;

  RunFilesApi(Vertx vertx, StreamHub hub, Rest rest) {
    this.vertx = vertx;
    this.hub = hub;
    this.rest = rest;
  }

  void mount(Router router) {
    router.get("/api/jobs/:id/metrics").handler(this::metrics);
    router
        .get("/api/jobs/:id/frames")
        .handler(
            rc ->
                rest.trainer(
                    rc,
                    Rest.getJob(rc),
                    job ->
                        hub.frameIndex(job.getString("id"))
                            .onComplete(ar -> Rest.json(rc, ar.result()))));
    router.get("/api/jobs/:id/frames/:file").handler(this::frame);
    router.get("/api/jobs/:id/checkpoint").handler(this::checkpoint);
  }

  private void metrics(RoutingContext rc) {
    boolean wantsJson =
        "json".equals(rc.queryParams().get("format"))
            || String.valueOf(rc.request().getHeader("Accept")).contains("application/json");
    rest.trainer(
        rc,
        Rest.getJob(rc),
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
                        here
                            ? vertx.fileSystem().readFile(csv)
                            : rest.relayed(job, MetricsCsv.FILE);
                    bytes.onComplete(
                        read -> {
                          if (read.failed()) {
                            Rest.error(
                                rc,
                                502,
                                "cannot read "
                                    + MetricsCsv.FILE
                                    + ": "
                                    + read.cause().getMessage());
                          } else if (read.result() == null) {
                            Rest.error(
                                rc, 404, "job " + job.getString("id") + " has no metrics yet");
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
                                        Rest.error(
                                            rc,
                                            500,
                                            "cannot read "
                                                + MetricsCsv.FILE
                                                + ": "
                                                + ar.cause().getMessage());
                                      } else {
                                        Rest.json(rc, ar.result());
                                      }
                                    });
                          }
                        });
                  });
        });
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
      Rest.error(rc, 404, "frames are recon.png, samples.png, latent.png or manifold.png");
      return;
    }
    FrameKind kind = FrameKind.fromWireName(file.substring(0, file.length() - 4));
    Long step;
    try {
      step =
          rc.queryParams().contains("step") ? Long.parseLong(rc.queryParams().get("step")) : null;
    } catch (NumberFormatException e) {
      Rest.error(rc, 400, "\"step\" must be a whole number");
      return;
    }
    rest.trainer(
        rc,
        Rest.getJob(rc),
        job ->
            hub.frameAt(job.getString("id"), kind, step)
                .onComplete(
                    ar -> {
                      switch (ar.result()) {
                        case StreamHub.FrameLookup.Found f -> {
                          Frame shown = f.frame().frame();
                          if (shown.plane() != null) {
                            // The plane as it was when this frame was made: a page decoding a past
                            // step itself maps hovers with it, not with the current plane.
                            rc.response()
                                .putHeader(
                                    "X-Plane",
                                    new ServerMessage.Plane(
                                            job.getInteger("num", 0),
                                            shown.step(),
                                            shown.plane(),
                                            shown.axes())
                                        .toJson()
                                        .encode());
                          }
                          rc.response()
                              .putHeader("Content-Type", "image/png")
                              .putHeader("X-Step", Long.toString(shown.step()))
                              .putHeader("X-Frame-Source", "stream")
                              .putHeader("Cache-Control", "no-store")
                              .end(Buffer.buffer(shown.png()));
                        }
                        case StreamHub.FrameLookup.NoneKept n when step != null ->
                            epochImage(rc, job, kind, step);
                        case null, default ->
                            Rest.error(
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
      Rest.error(rc, 404, "not kept: no " + kind.wireName() + " frame at or before step " + step);
      return;
    }
    rest.runFile(job, RunLayout.frameFile(kind, (int) epoch))
        .onComplete(
            read -> {
              if (read.failed() || read.result() == null) {
                Rest.error(
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
    if (!rest.authorized(rc)) {
      return;
    }
    rest.trainer(
        rc,
        Rest.getJob(rc),
        job ->
            rest.sendRunFile(
                rc,
                job,
                RunLayout.CHECKPOINT,
                "the checkpoint",
                "job " + job.getString("id") + " has no checkpoint yet",
                () -> download(rc, job)));
  }

  private static io.vertx.core.http.HttpServerResponse download(RoutingContext rc, JsonObject job) {
    return rc.response()
        .putHeader("Content-Type", "application/octet-stream")
        .putHeader(
            "Content-Disposition", "attachment; filename=\"" + job.getString("id") + ".pt\"");
  }
}
