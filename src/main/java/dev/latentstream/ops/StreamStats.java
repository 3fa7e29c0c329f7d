package dev.latentstream.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The streaming meters, summed over every gateway's hub. A hub's counters belong to its event loop,
 * so a scrape first asks each hub on its own context for a snapshot; the meters then read the sums.
 */
final class StreamStats {

  /**
   * The hub's counter names, and how each is exposed; a counter a hub does not report is not
   * exposed.
   */
  private static final Map<String, String> COUNTERS =
      Map.of(
          "framesSent", "latentstream.stream.frames.sent",
          "framesConflated", "latentstream.stream.frames.conflated",
          "slowClientsClosed", "latentstream.stream.slow.clients.closed",
          "historyBytesSent", "latentstream.stream.history.bytes.sent");

  private static final String CLIENTS = "clients";

  /** Interactive requests received by type: keys {@code modelRequests.<op>}, one tagged counter. */
  private static final String MODEL_REQUESTS = "modelRequests.";

  private record Source(Context context, Supplier<JsonObject> stats) {}

  private final MeterRegistry registry;
  private final List<Source> sources = new CopyOnWriteArrayList<>();
  private final Map<String, Double> sums = new ConcurrentHashMap<>();

  StreamStats(MeterRegistry registry) {
    this.registry = registry;
  }

  void add(Context context, Supplier<JsonObject> stats) {
    sources.add(new Source(context, stats));
  }

  /**
   * Takes a snapshot of every live hub; never fails (a hub that does not answer within 1 s is left
   * out).
   */
  Future<Void> refresh() {
    sources.removeIf(s -> !s.context.owner().deploymentIDs().contains(s.context.deploymentID()));
    List<Future<JsonObject>> parts =
        sources.stream()
            .map(
                s -> {
                  Promise<JsonObject> p = Promise.promise();
                  s.context.runOnContext(v -> p.complete(s.stats.get()));
                  return p.future().timeout(1, TimeUnit.SECONDS).otherwise(new JsonObject());
                })
            .toList();
    return Future.all(parts)
        .map(
            all -> {
              Map<String, Double> fresh = new java.util.HashMap<>();
              for (Future<JsonObject> part : parts) {
                part.result()
                    .forEach(
                        e -> {
                          if (e.getValue() instanceof Number n) {
                            fresh.merge(e.getKey(), n.doubleValue(), Double::sum);
                          }
                        });
              }
              fresh.forEach(
                  (key, value) -> {
                    if (sums.put(key, value) == null) {
                      register(key);
                    }
                  });
              return (Void) null;
            })
        .otherwiseEmpty();
  }

  private void register(String key) {
    if (key.equals(CLIENTS)) {
      Gauge.builder("latentstream.stream.clients", sums, m -> m.getOrDefault(CLIENTS, 0.0))
          .description("WebSocket clients connected")
          .register(registry);
    } else if (key.startsWith(MODEL_REQUESTS)) {
      FunctionCounter.builder(
              "latentstream.stream.model.requests", sums, m -> m.getOrDefault(key, 0.0))
          .tag("op", key.substring(MODEL_REQUESTS.length()))
          .description(
              "Interactive requests (decode, encode, interpolate, attribute) clients sent, answered or not")
          .register(registry);
    } else if (COUNTERS.containsKey(key)) {
      FunctionCounter.builder(COUNTERS.get(key), sums, m -> m.getOrDefault(key, 0.0))
          .description("Stream hub counter " + key + " since start")
          .register(registry);
    }
  }
}
