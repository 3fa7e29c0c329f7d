package dev.latentstream.jobs;

import dev.latentstream.explore.LiveModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Reads the arguments of an {@link Interactive} request: the scalar ones ({@code steps}, {@code
 * mode}, class indices, flags) when it is parsed, on the caller's thread; latent points and
 * endpoints, whose width the model gives, when it runs, on the trainer thread. Each refusal is an
 * {@link IllegalArgumentException} that names the argument. Holds no state.
 */
final class InteractiveArgs {

  private InteractiveArgs() {}

  /** {"index": i} (a test image, encoded) or {"z": [...]}. */
  static float[] endpoint(Object spec, String name, LiveModel live) {
    if (!(spec instanceof JsonObject o)) {
      throw new IllegalArgumentException(
          "\"" + name + "\" must be an object: {\"index\": n} or {\"z\": [...]}");
    }
    if (o.getValue("index") instanceof Number i) {
      float[] image = live.testImage(i.intValue());
      return live.encode(image, 1).mean();
    }
    if (o.getValue("z") != null) {
      return matrix(o.getValue("z"), name + ".z", live.latentDim())[0];
    }
    if (o.getValue("plane") != null) {
      float[] uv = matrix(o.getValue("plane"), name + ".plane", 2)[0];
      return live.fromPlane(uv[0], uv[1]);
    }
    throw new IllegalArgumentException("\"" + name + "\" needs \"index\", \"z\" or \"plane\"");
  }

  static float[][] matrix(Object value, String name, int width) {
    JsonArray arr = value instanceof JsonArray a ? a : null;
    if (arr == null || arr.isEmpty()) {
      throw new IllegalArgumentException("\"" + name + "\" must be a non-empty array");
    }
    boolean nested = arr.getValue(0) instanceof JsonArray;
    JsonArray rows = nested ? arr : new JsonArray().add(arr);
    if (rows.size() > Interactive.MAX_BATCH) {
      throw new IllegalArgumentException(
          "\"" + name + "\": at most " + Interactive.MAX_BATCH + " points per request");
    }
    float[][] out = new float[rows.size()][];
    for (int r = 0; r < rows.size(); r++) {
      if (!(rows.getValue(r) instanceof JsonArray row) || row.size() != width) {
        throw new IllegalArgumentException(
            "\"" + name + "\": each point needs " + width + " numbers");
      }
      out[r] = new float[width];
      for (int c = 0; c < width; c++) {
        if (!(row.getValue(c) instanceof Number num) || !Double.isFinite(num.doubleValue())) {
          throw new IllegalArgumentException("\"" + name + "\": values must be finite numbers");
        }
        out[r][c] = num.floatValue();
      }
    }
    return out;
  }

  static float[] floats(JsonObject body, String key, int max) {
    if (!(body.getValue(key) instanceof JsonArray arr)) {
      throw new IllegalArgumentException("\"" + key + "\" must be an array of numbers");
    }
    if (arr.size() > max) {
      throw new IllegalArgumentException("\"" + key + "\": at most " + max + " values");
    }
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(arr.getValue(i) instanceof Number n)) {
        throw new IllegalArgumentException("\"" + key + "\" must be an array of numbers");
      }
      out[i] = n.floatValue();
    }
    return out;
  }

  static int steps(JsonObject body) {
    Object v = body.getValue("steps", 8);
    if (!(v instanceof Number n)
        || n.intValue() < 2
        || n.intValue() > 64
        || n.doubleValue() != n.intValue()) {
      throw new IllegalArgumentException("\"steps\" must be a whole number from 2 to 64");
    }
    return n.intValue();
  }

  static boolean mode(Object mode) {
    return switch (mode instanceof String s ? s : "") {
      case "linear" -> false;
      case "spherical", "slerp" -> true;
      default -> throw new IllegalArgumentException("\"mode\" must be \"linear\" or \"spherical\"");
    };
  }

  static int classIndex(JsonObject body, String key) {
    if (!(body.getValue(key) instanceof Number n)
        || n.intValue() < 0
        || n.doubleValue() != n.intValue()) {
      throw new IllegalArgumentException(
          "\"" + key + "\" must be a class index (a whole number from 0)");
    }
    return n.intValue();
  }

  static boolean flag(JsonObject body, String key, boolean dflt) {
    if (!(body.getValue(key, dflt) instanceof Boolean b)) {
      throw new IllegalArgumentException("\"" + key + "\" must be true or false");
    }
    return b;
  }

  static double number(JsonObject body, String key, double dflt) {
    Object v = body.getValue(key, dflt);
    if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new IllegalArgumentException("\"" + key + "\" must be a number");
    }
    return n.doubleValue();
  }

  static float[] flatten(float[][] rows) {
    int w = rows[0].length;
    float[] out = new float[rows.length * w];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, out, i * w, w);
    }
    return out;
  }
}
