package dev.latentstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the {@link HttpVerticle} instances of one process share: the per-address WebSocket count
 * (the limit holds across event loops), the exported models held in memory ({@link ModelBytes}) and
 * the port they listen on. Thread-safe: every instance's event loop calls it.
 */
public final class Gateway {

  private final ConcurrentHashMap<String, Integer> connectionsPerIp = new ConcurrentHashMap<>();

  /** Each instance's hub counters, read on that instance's own event loop. */
  private final java.util.List<
          java.util.Map.Entry<io.vertx.core.Context, java.util.function.Supplier<JsonObject>>>
      hubs = new java.util.concurrent.CopyOnWriteArrayList<>();

  private final ModelBytes modelBytes = new ModelBytes();

  private final CountDownLatch listening = new CountDownLatch(1);
  private volatile int port = -1;

  ModelBytes modelBytes() {
    return modelBytes;
  }

  int connections(String ip) {
    return connectionsPerIp.getOrDefault(ip, 0);
  }

  /**
   * Counts one more socket from {@code ip} if it has fewer than {@code max}, in one atomic step: a
   * check and a later increment would let handshakes racing on other event loops all pass.
   */
  boolean reserve(String ip, int max) {
    boolean[] taken = {false};
    connectionsPerIp.compute(
        ip,
        (k, n) -> {
          int now = n == null ? 0 : n;
          if (now >= max) {
            return n;
          }
          taken[0] = true;
          return now + 1;
        });
    return taken[0];
  }

  void disconnected(String ip) {
    connectionsPerIp.compute(ip, (k, n) -> n == null || n <= 1 ? null : n - 1);
  }

  void addHub(io.vertx.core.Context context, java.util.function.Supplier<JsonObject> stats) {
    hubs.add(java.util.Map.entry(context, stats));
  }

  /** The streaming counters of every instance, summed: each hub counts only its own clients. */
  Future<JsonObject> streamStats() {
    List<Future<JsonObject>> parts = new ArrayList<>();
    for (var hub : hubs) {
      Promise<JsonObject> p = Promise.promise();
      hub.getKey().runOnContext(v -> p.complete(hub.getValue().get()));
      parts.add(p.future());
    }
    return Future.all(parts)
        .map(
            all -> {
              JsonObject sum = new JsonObject();
              for (Future<JsonObject> part : parts) {
                part.result()
                    .forEach(
                        e ->
                            sum.put(
                                e.getKey(),
                                sum.getLong(e.getKey(), 0L) + ((Number) e.getValue()).longValue()));
              }
              return sum;
            });
  }

  void listening(int actualPort) {
    port = actualPort;
    listening.countDown();
  }

  /** The port every instance listens on; valid once the gateway has been deployed. */
  public int port() {
    try {
      listening.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return port;
  }
}
