package dev.latentstream.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** What {@code GET /api/info} reports: versions, device, frame renderer and datasets. */
public record ServerInfo(
    String version, String libtorch, String device, String renderer, List<String> datasets) {
  public JsonObject toJson() {
    return new JsonObject()
        .put("version", version)
        .put("protocol", dev.latentstream.stream.Protocol.VERSION)
        .put("libtorch", libtorch)
        .put("device", device)
        .put("nativeBridge", renderer)
        .put("datasets", new JsonArray(datasets));
  }
}
