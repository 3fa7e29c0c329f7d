package dev.latentstream.stream;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a hub's streaming has done since start, for {@code /api/info} and {@code /metrics}: frames
 * sent and conflated, clients closed, histories sent, interactive requests by type.
 *
 * <p>Threads: one per hub, touched on the hub's event loop only.
 */
final class StreamCounters {
  long framesSent;
  long framesConflated;
  long slowClientsClosed;
  long tooBusyClosed;
  long historiesSent;
  long historyBytesSent;
  long historySnapshots;

  /**
   * Interactive requests clients sent, by type ({@link Protocol#MODEL_REQUESTS}), answered or not:
   * a page that decodes itself sends no {@code decode}.
   */
  final Map<String, Long> modelRequests = new TreeMap<>();

  /** The counters with {@code clients} connected, as {@link StreamHub#stats()} gives them. */
  JsonObject toJson(int clients) {
    JsonObject stats =
        new JsonObject()
            .put("clients", clients)
            .put("framesSent", framesSent)
            .put("framesConflated", framesConflated)
            .put("slowClientsClosed", slowClientsClosed)
            .put("tooBusyClosed", tooBusyClosed)
            .put("historiesSent", historiesSent)
            .put("historyBytesSent", historyBytesSent)
            .put("historySnapshots", historySnapshots);
    for (String op : Protocol.MODEL_REQUESTS) {
      stats.put(StreamHub.MODEL_REQUESTS_PREFIX + op, modelRequests.getOrDefault(op, 0L));
    }
    return stats;
  }
}
