package dev.latentstream.jobs;

import dev.latentstream.explore.Interpolation;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Png;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.foreign.MemorySegment;
import java.util.Base64;

/**
 * The interactive requests against a live model (decode, encode, interpolate, attribute): parsed
 * and validated on the caller's thread, run on the trainer thread through {@code Trainer.submit}.
 * Images go back as base64 PNG.
 */
sealed interface Interactive {

  JsonObject run(LiveModel live, FrameRenderer renderer);

  /** Max latent points or images in one request. */
  int MAX_BATCH = 256;

  static Interactive parse(String op, JsonObject body) {
    return switch (op) {
      case "decode" -> new Decode(body.getValue("z"), body.getValue("plane"));
      case "encode" -> new Encode(floats(body, "pixels", 28 * 28 * MAX_BATCH));
      case "interpolate" ->
          new Interpolate(
              body.getValue("from"),
              body.getValue("to"),
              steps(body),
              mode(body.getValue("mode", "linear")));
      case "attribute" ->
          new Attribute(
              body.getValue("from"),
              classIndex(body, "plus"),
              classIndex(body, "minus"),
              number(body, "scale", 1.0),
              flag(body, "images", true));
      default -> throw new IllegalArgumentException("unknown request '" + op + "'");
    };
  }

  /**
   * Latent points ({@code z}: one array or an array of arrays) or plane points ({@code plane}: [u,
   * v] or [[u, v], ...]).
   */
  record Decode(Object z, Object plane) implements Interactive {
    @Override
    public JsonObject run(LiveModel live, FrameRenderer renderer) {
      float[][] points;
      if (z != null) {
        points = matrix(z, "z", live.latentDim());
      } else if (plane != null) {
        float[][] uv = matrix(plane, "plane", 2);
        points = new float[uv.length][];
        for (int i = 0; i < uv.length; i++) {
          points[i] = live.fromPlane(uv[i][0], uv[i][1]);
        }
      } else {
        throw new IllegalArgumentException(
            "decode needs \"z\" (latent points) or \"plane\" (points on the latent plane)");
      }
      float[] images = live.decode(flatten(points), points.length);
      return new JsonObject()
          .put("images", pngs(images, points.length, live, renderer))
          .put("z", rows(points))
          .put("width", live.imageWidth())
          .put("height", live.imageHeight());
    }
  }

  record Encode(float[] pixels) implements Interactive {
    @Override
    public JsonObject run(LiveModel live, FrameRenderer renderer) {
      int size = live.imageHeight() * live.imageWidth();
      if (pixels.length == 0 || pixels.length % size != 0) {
        throw new IllegalArgumentException(
            "pixels: expected a multiple of "
                + size
                + " values ("
                + live.imageHeight()
                + "x"
                + live.imageWidth()
                + " per image), got "
                + pixels.length);
      }
      for (float p : pixels) {
        if (!(p >= 0 && p <= 1)) {
          throw new IllegalArgumentException("pixels must be numbers from 0 to 1");
        }
      }
      int n = pixels.length / size;
      LiveModel.Encoding e = live.encode(pixels, n);
      int d = live.latentDim();
      JsonArray plane = new JsonArray();
      JsonArray planeStd = new JsonArray();
      for (int i = 0; i < n; i++) {
        float[] mean = java.util.Arrays.copyOfRange(e.mean(), i * d, (i + 1) * d);
        float[] logVar = java.util.Arrays.copyOfRange(e.logVar(), i * d, (i + 1) * d);
        plane.add(array(live.toPlane(mean)));
        planeStd.add(array(live.variational() ? live.planeStd(logVar) : new float[2]));
      }
      return new JsonObject()
          .put("mean", rows(split(e.mean(), n)))
          .put("logVar", rows(split(e.logVar(), n)))
          .put("reconstructions", pngs(e.reconstruction(), n, live, renderer))
          .put("plane", plane)
          .put("planeStd", planeStd)
          .put("variational", live.variational());
    }
  }

  record Interpolate(Object from, Object to, int steps, boolean spherical) implements Interactive {
    @Override
    public JsonObject run(LiveModel live, FrameRenderer renderer) {
      float[] a = endpoint(from, "from", live);
      float[] b = endpoint(to, "to", live);
      float[] path = Interpolation.path(a, b, steps, spherical);
      float[] images = live.decode(path, steps);
      return new JsonObject()
          .put("images", pngs(images, steps, live, renderer))
          .put("mode", spherical ? "spherical" : "linear");
    }
  }

  /**
   * Adds scale × (mean code of class plus − mean code of class minus) to an image's or point's
   * code. Both codes come back ({@code z}); with {@code images} false nothing is decoded, for a
   * page that decodes them itself.
   */
  record Attribute(Object from, int plus, int minus, double scale, boolean images)
      implements Interactive {
    @Override
    public JsonObject run(LiveModel live, FrameRenderer renderer) {
      int classes = live.classNames().size();
      if (plus >= classes || minus >= classes) {
        throw new IllegalArgumentException("classes must be from 0 to " + (classes - 1));
      }
      float[] z = endpoint(from, "from", live);
      float[] p = live.classMean(plus);
      float[] m = live.classMean(minus);
      float[] edited = new float[z.length];
      for (int i = 0; i < z.length; i++) {
        edited[i] = (float) (z[i] + scale * (p[i] - m[i]));
      }
      JsonObject result =
          new JsonObject()
              .put("z", rows(new float[][] {z, edited}))
              .put("label", live.classNames().get(plus) + " − " + live.classNames().get(minus));
      if (!images) {
        return result;
      }
      float[] both = new float[2 * z.length];
      System.arraycopy(z, 0, both, 0, z.length);
      System.arraycopy(edited, 0, both, z.length, z.length);
      return result.put("images", pngs(live.decode(both, 2), 2, live, renderer));
    }
  }

  /** {"index": i} (a test image, encoded) or {"z": [...]}. */
  private static float[] endpoint(Object spec, String name, LiveModel live) {
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

  private static JsonArray pngs(float[] images, int n, LiveModel live, FrameRenderer renderer) {
    int size = live.imageHeight() * live.imageWidth();
    JsonArray out = new JsonArray();
    for (int i = 0; i < n; i++) {
      float[] one = java.util.Arrays.copyOfRange(images, i * size, (i + 1) * size);
      Png png =
          renderer.grid(MemorySegment.ofArray(one), 1, live.imageHeight(), live.imageWidth(), 1);
      out.add(Base64.getEncoder().encodeToString(png.bytes()));
    }
    return out;
  }

  private static float[][] matrix(Object value, String name, int width) {
    JsonArray arr = value instanceof JsonArray a ? a : null;
    if (arr == null || arr.isEmpty()) {
      throw new IllegalArgumentException("\"" + name + "\" must be a non-empty array");
    }
    boolean nested = arr.getValue(0) instanceof JsonArray;
    JsonArray rows = nested ? arr : new JsonArray().add(arr);
    if (rows.size() > MAX_BATCH) {
      throw new IllegalArgumentException(
          "\"" + name + "\": at most " + MAX_BATCH + " points per request");
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

  private static float[] floats(JsonObject body, String key, int max) {
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

  private static int steps(JsonObject body) {
    Object v = body.getValue("steps", 8);
    if (!(v instanceof Number n)
        || n.intValue() < 2
        || n.intValue() > 64
        || n.doubleValue() != n.intValue()) {
      throw new IllegalArgumentException("\"steps\" must be a whole number from 2 to 64");
    }
    return n.intValue();
  }

  private static boolean mode(Object mode) {
    return switch (mode instanceof String s ? s : "") {
      case "linear" -> false;
      case "spherical", "slerp" -> true;
      default -> throw new IllegalArgumentException("\"mode\" must be \"linear\" or \"spherical\"");
    };
  }

  private static int classIndex(JsonObject body, String key) {
    if (!(body.getValue(key) instanceof Number n)
        || n.intValue() < 0
        || n.doubleValue() != n.intValue()) {
      throw new IllegalArgumentException(
          "\"" + key + "\" must be a class index (a whole number from 0)");
    }
    return n.intValue();
  }

  private static boolean flag(JsonObject body, String key, boolean dflt) {
    if (!(body.getValue(key, dflt) instanceof Boolean b)) {
      throw new IllegalArgumentException("\"" + key + "\" must be true or false");
    }
    return b;
  }

  private static double number(JsonObject body, String key, double dflt) {
    Object v = body.getValue(key, dflt);
    if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new IllegalArgumentException("\"" + key + "\" must be a number");
    }
    return n.doubleValue();
  }

  private static float[] flatten(float[][] rows) {
    int w = rows[0].length;
    float[] out = new float[rows.length * w];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, out, i * w, w);
    }
    return out;
  }

  private static float[][] split(float[] flat, int n) {
    int w = flat.length / n;
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) {
      out[i] = java.util.Arrays.copyOfRange(flat, i * w, (i + 1) * w);
    }
    return out;
  }

  private static JsonArray rows(float[][] rows) {
    JsonArray out = new JsonArray();
    for (float[] r : rows) {
      out.add(array(r));
    }
    return out;
  }

  private static JsonArray array(float[] r) {
    JsonArray a = new JsonArray();
    for (float v : r) {
      a.add(v);
    }
    return a;
  }
}
