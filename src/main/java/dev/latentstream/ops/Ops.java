package dev.latentstream.ops;

import dev.latentstream.config.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The operations side's public face: a Vert.x built with Micrometer metrics, and the routes {@code
 * GET /metrics}, {@code GET /health} and {@code GET /ready}.
 */
public final class Ops {

  private static final AtomicInteger REGISTRIES = new AtomicInteger();

  /**
   * vertx-micrometer-metrics 5.0.10 registers its event-bus gauges again for an address it has
   * seen, which Micrometer 1.15 reports once per process as a WARNING ("This Gauge has been already
   * registered"), a harmless line an operator would otherwise read at every start. Held here: JUL
   * keeps loggers weakly.
   */
  private static final Logger MICROMETER_REGISTRY_LOG =
      Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");

  private Ops() {}

  /**
   * A Vert.x whose HTTP, event-bus, pool and JVM meters land in the registry {@code /metrics}
   * serves.
   */
  public static Vertx vertx() {
    MICROMETER_REGISTRY_LOG.setLevel(Level.SEVERE);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = withMetrics(Vertx.builder(), new VertxOptions(), registry).build();
    OpsState.attach(vertx, registry);
    return vertx;
  }

  /**
   * Adds Micrometer metrics to a builder (e.g. a clustered one); call {@link #attach} with the
   * built Vertx and the same registry so that {@code /metrics} serves it.
   */
  public static VertxBuilder withMetrics(
      VertxBuilder builder, VertxOptions options, PrometheusMeterRegistry registry) {
    // Vert.x keys backends by registry name across the JVM: a unique name keeps two servers in one
    // JVM
    // (the tests) apart. The labels are the bounded ones: no remote address, no raw path.
    MicrometerMetricsOptions metrics =
        new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            .setRegistryName("latentstream-" + REGISTRIES.incrementAndGet())
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
            .addLabels(Label.HTTP_ROUTE, Label.EB_ADDRESS);
    return builder
        .with(options.setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry));
  }

  /**
   * Makes {@code registry} (the one given to {@link #withMetrics}) the one {@code /metrics} serves.
   */
  public static void attach(Vertx vertx, PrometheusMeterRegistry registry) {
    OpsState.attach(vertx, registry);
  }

  /**
   * Mounts {@code /metrics}, {@code /health} and {@code /ready} on a gateway's router. Call on the
   * gateway's context (its {@code start}); {@code streamStats} is its hub's counters ({@code
   * clients}, {@code framesSent}, {@code framesConflated}, {@code slowClientsClosed}), read on this
   * same context.
   */
  public static void mount(Router router, ServerConfig config, Supplier<JsonObject> streamStats) {
    Vertx vertx = Vertx.currentContext().owner();
    OpsState state = OpsState.of(vertx, config);
    state.streams.add(Vertx.currentContext(), streamStats);
    state.delays.watch(Vertx.currentContext());
    var scrape = PrometheusScrapingHandler.create(state.registry);
    router
        .get("/metrics")
        .handler(
            rc -> {
              // The job gauges tell what is training: with watchRequiresToken, as much as watching
              // does.
              if (config.watchRequiresToken() && !hasToken(rc, config)) {
                rc.response()
                    .setStatusCode(401)
                    .putHeader("Content-Type", "application/json")
                    .end(
                        new JsonObject()
                            .put(
                                "error",
                                new JsonObject()
                                    .put("status", 401)
                                    .put(
                                        "message",
                                        "this needs the token: send 'Authorization: Bearer <token>'"))
                            .encode());
                return;
              }
              state.streams.refresh().onComplete(v -> scrape.handle(rc));
            });
    router.get("/health").handler(Readiness.liveness(vertx));
    router.get("/ready").handler(Readiness.readiness(vertx, config));
  }

  private static boolean hasToken(RoutingContext rc, ServerConfig config) {
    String auth = rc.request().getHeader("Authorization");
    return config.tokenMatches(
        auth != null && auth.startsWith("Bearer ")
            ? auth.substring(7).trim()
            : rc.queryParams().get("token"));
  }
}
