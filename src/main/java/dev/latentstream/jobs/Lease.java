package dev.latentstream.jobs;

import io.vertx.core.json.JsonObject;

/**
 * A job's lease as the cluster stores it ({@link LeaseMaps}): the node that holds it, its name, and
 * the fencing token it was taken under. Immutable; any thread.
 */
record Lease(String node, String name, long token) {
  String encode() {
    return new JsonObject().put("node", node).put("name", name).put("token", token).encode();
  }

  static Lease decode(String s) {
    JsonObject o = new JsonObject(s);
    return new Lease(o.getString("node"), o.getString("name"), o.getLong("token"));
  }
}
