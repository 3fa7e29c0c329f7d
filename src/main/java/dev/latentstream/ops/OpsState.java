package dev.latentstream.ops;

import dev.latentstream.bus.Codecs;
import dev.latentstream.config.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.CompletableFuture;

/**
 * What the operations side keeps per Vertx, in its local shared data: the registry {@code /metrics}
 * serves, the stream hubs' counters, the event-loop delay timers and the job watch. Created by
 * {@link Ops#vertx} (with Vert.x's own meters) or, for a Vertx built without metrics, by the first
 * {@link Ops#mount}.
 */
final class OpsState implements Shareable {

  private static final String MAP = "latentstream.ops";
  private static final String KEY = "state";

  final PrometheusMeterRegistry registry;
  final StreamStats streams;
  final EventLoopDelay delays;
  private JobWatch jobs;

  private OpsState(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.streams = new StreamStats(registry);
    this.delays = new EventLoopDelay(registry);
  }

  static void attach(Vertx vertx, PrometheusMeterRegistry registry) {
    map(vertx).put(KEY, new OpsState(registry));
  }

  /**
   * The state of {@code vertx}; the first call starts watching the trainer's events on the caller's
   * context.
   */
  static synchronized OpsState of(Vertx vertx, ServerConfig config) {
    LocalMap<String, OpsState> map = map(vertx);
    OpsState state = map.get(KEY);
    if (state == null) {
      state = new OpsState(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      map.put(KEY, state);
    }
    if (state.jobs == null) {
      Codecs.register(vertx);
      JobWatch watch = new JobWatch(vertx, state.registry);
      state.jobs = watch;
      // On a context of its own, created off the event loops and so tied to no deployment: it keeps
      // hearing
      // the trainer's last events (jobs interrupted by a shutdown) while the gateways are being
      // undeployed.
      CompletableFuture.supplyAsync(vertx::getOrCreateContext)
          .join()
          .runOnContext(v -> watch.start());
    }
    return state;
  }

  private static LocalMap<String, OpsState> map(Vertx vertx) {
    return vertx.sharedData().getLocalMap(MAP);
  }
}
