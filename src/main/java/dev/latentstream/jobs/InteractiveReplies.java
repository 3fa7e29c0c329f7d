package dev.latentstream.jobs;

import dev.latentstream.explore.LiveModel;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Png;
import io.vertx.core.json.JsonArray;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Base64;

/**
 * Writes the replies of {@link Interactive} requests: images as base64 PNGs, latent codes as arrays
 * of rows. Runs on the trainer thread with the request; holds no state.
 */
final class InteractiveReplies {

  private InteractiveReplies() {}

  static JsonArray pngs(float[] images, int n, LiveModel live, FrameRenderer renderer) {
    int size = live.imageHeight() * live.imageWidth();
    JsonArray out = new JsonArray();
    for (int i = 0; i < n; i++) {
      float[] one = Arrays.copyOfRange(images, i * size, (i + 1) * size);
      Png png =
          renderer.grid(MemorySegment.ofArray(one), 1, live.imageHeight(), live.imageWidth(), 1);
      out.add(Base64.getEncoder().encodeToString(png.bytes()));
    }
    return out;
  }

  static float[][] split(float[] flat, int n) {
    int w = flat.length / n;
    float[][] out = new float[n][];
    for (int i = 0; i < n; i++) {
      out[i] = Arrays.copyOfRange(flat, i * w, (i + 1) * w);
    }
    return out;
  }

  static JsonArray rows(float[][] rows) {
    JsonArray out = new JsonArray();
    for (float[] r : rows) {
      out.add(array(r));
    }
    return out;
  }

  static JsonArray array(float[] r) {
    JsonArray a = new JsonArray();
    for (float v : r) {
      a.add(v);
    }
    return a;
  }
}
