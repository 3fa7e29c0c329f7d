package dev.latentstream.gateway;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * The jobs under {@code /api/jobs}: listing them (from the gateway's own view, so it never waits on
 * a trainer node), starting one, reading one, deleting it, pausing, resuming or stopping it, and
 * changing a live setting. Job state lives on the trainer node that owns the job, reached over the
 * event bus; everything that changes it needs the token.
 *
 * <p>Threads: the HTTP verticle's event loop.
 */
final class JobsApi {

  private final ServerConfig config;
  private final StreamHub hub;
  private final Rest rest;

  JobsApi(ServerConfig config, StreamHub hub, Rest rest) {
    this.config = config;
    this.hub = hub;
    this.rest = rest;
  }

  void mount(Router router) {
    // From the gateway's own view of the jobs: listing never waits on (or fails with) a trainer
    // node.
    router.get("/api/jobs").handler(rc -> Rest.json(rc, hub.jobStatuses()));
    router.post("/api/jobs").handler(this::start);
    router
        .get("/api/jobs/:id")
        .handler(
            rc ->
                rest.trainer(
                    rc,
                    Rest.getJob(rc),
                    r -> {
                      r.remove("runDir");
                      Rest.json(rc, r);
                    }));
    router.delete("/api/jobs/:id").handler(rc -> control(rc, TrainerCommand.Action.DELETE));
    router.post("/api/jobs/:id/settings").handler(this::setting);
    router
        .post("/api/jobs/:id/:action")
        .handler(
            rc -> {
              String action = rc.pathParam("action");
              if (!List.of("pause", "resume", "stop").contains(action)) {
                Rest.error(
                    rc, 404, "unknown action '" + action + "' (pause, resume, stop, settings)");
                return;
              }
              control(rc, TrainerCommand.Action.fromWireName(action));
            });
  }

  private void start(RoutingContext rc) {
    if (!rest.authorized(rc)) {
      return;
    }
    JsonObject body =
        Rest.jsonBody(
            rc, "{\"preset\": \"vae-fashion\"} or {\"spec\": {...}}, optionally with \"epochs\"");
    if (body == null) {
      return;
    }
    if (!Rest.knownKeys(rc, body, "preset", "spec", "epochs", "sweep")) {
      return;
    }
    Object preset = body.getValue("preset");
    Object spec = body.getValue("spec");
    Object epochs = body.getValue("epochs");
    if ((preset == null) == (spec == null)
        || (preset != null && !(preset instanceof String))
        || (spec != null && !(spec instanceof JsonObject))) {
      Rest.error(
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
      Rest.error(
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
      Rest.error(rc, 400, "\"sweep\" must be an object of key: [values], e.g. {\"beta\": [1, 4]}");
      return;
    }
    TrainerCommand.Start cmd =
        new TrainerCommand.Start(
            (String) preset,
            (JsonObject) spec,
            epochs == null ? null : ((Number) epochs).intValue(),
            (JsonObject) sweep);
    rest.trainer(
        rc,
        cmd,
        r -> {
          rc.response().setStatusCode(201);
          Rest.json(rc, r);
        });
  }

  private void control(RoutingContext rc, TrainerCommand.Action action) {
    if (rest.authorized(rc)) {
      rest.trainer(
          rc, new TrainerCommand.Control(action, rc.pathParam("id")), r -> Rest.json(rc, r));
    }
  }

  private void setting(RoutingContext rc) {
    if (!rest.authorized(rc)) {
      return;
    }
    JsonObject body = Rest.jsonBody(rc, "{\"key\": \"lr\", \"value\": 0.0005}");
    if (body == null) {
      return;
    }
    if (!Rest.knownKeys(rc, body, "key", "value")) {
      return;
    }
    if (!(body.getValue("key") instanceof String key)
        || !(body.getValue("value") instanceof Number value)
        || !Double.isFinite(value.doubleValue())) {
      Rest.error(
          rc,
          400,
          "settings need \"key\" (a string) and \"value\" (a number), e.g. {\"key\": \"lr\", \"value\": 0.0005}");
      return;
    }
    rest.trainer(
        rc,
        new TrainerCommand.Set(rc.pathParam("id"), key, value.doubleValue()),
        r -> Rest.json(rc, r));
  }
}
