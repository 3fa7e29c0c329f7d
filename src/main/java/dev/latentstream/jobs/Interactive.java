package dev.latentstream.jobs;

import static dev.latentstream.jobs.InteractiveArgs.classIndex;
import static dev.latentstream.jobs.InteractiveArgs.endpoint;
import static dev.latentstream.jobs.InteractiveArgs.flag;
import static dev.latentstream.jobs.InteractiveArgs.flatten;
import static dev.latentstream.jobs.InteractiveArgs.floats;
import static dev.latentstream.jobs.InteractiveArgs.matrix;
import static dev.latentstream.jobs.InteractiveArgs.mode;
import static dev.latentstream.jobs.InteractiveArgs.number;
import static dev.latentstream.jobs.InteractiveArgs.steps;
import static dev.latentstream.jobs.InteractiveReplies.array;
import static dev.latentstream.jobs.InteractiveReplies.pngs;
import static dev.latentstream.jobs.InteractiveReplies.rows;
import static dev.latentstream.jobs.InteractiveReplies.split;

import dev.latentstream.explore.Interpolation;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.render.FrameRenderer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;

/**
 * The interactive requests against a live model (decode, encode, interpolate, attribute): parsed
 * and validated on the caller's thread, run on the trainer thread through {@code Trainer.submit}.
 * Images go back as base64 PNG. The arguments are read by {@link InteractiveArgs}, the replies
 * written by {@link InteractiveReplies}.
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
        float[] mean = Arrays.copyOfRange(e.mean(), i * d, (i + 1) * d);
        float[] logVar = Arrays.copyOfRange(e.logVar(), i * d, (i + 1) * d);
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
}
