package dev.latentstream.gateway;

import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The REST API under {@code /api} (see the table in {@code web/api/protocol.md}): the protocol
 * documents, {@code info} and {@code presets} here, then one class per resource ({@link JobsApi},
 * {@link RunFilesApi}, {@link ModelDownloadsApi}), and a JSON 404 for anything else. With {@code
 * watchRequiresToken} every route but the protocol documents needs the token.
 *
 * <p>Threads: the HTTP verticle's event loop; file work is asynchronous or on a worker.
 */
final class RestApi {

  private final Vertx vertx;
  private final ServerConfig config;
  private final ServerInfo info;
  private final StreamHub hub;
  private final Gateway gateway;
  private final Rest rest;

  RestApi(
      Vertx vertx,
      ServerConfig config,
      ServerInfo info,
      StreamHub hub,
      Gateway gateway,
      TrainerRoutes routes) {
    this.vertx = vertx;
    this.config = config;
    this.info = info;
    this.hub = hub;
    this.gateway = gateway;
    this.rest = new Rest(vertx, config, routes);
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
                if (rest.authorized(rc)) {
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
                            Rest.json(
                                rc,
                                ar.succeeded()
                                    ? info.toJson().mergeIn(ar.result())
                                    : info.toJson().mergeIn(hub.stats()))));
    router.get("/api/presets").handler(this::presets);
    new JobsApi(config, hub, rest).mount(router);
    new RunFilesApi(vertx, hub, rest).mount(router);
    new ModelDownloadsApi(config, rest, gateway.modelBytes()).mount(router);
    router
        .route("/api/*")
        .handler(
            rc ->
                Rest.error(
                    rc,
                    404,
                    "no such API route: " + rc.request().method() + " " + rc.request().path()));
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
                Rest.json(rc, ar.result());
              } else {
                Rest.error(
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
              try (var in = RestApi.class.getResourceAsStream("/webroot/api/" + name)) {
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
                Rest.error(
                    rc,
                    404,
                    "the protocol document "
                        + name
                        + " is not packaged (build with ./mvnw package)");
              }
            });
  }
}
