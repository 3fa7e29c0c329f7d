package dev.latentstream.train;

import dev.latentstream.diagnostics.LatentStats;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Losses;
import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.NativeHeap;
import java.util.function.Function;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The one loop over test images: the first {@code count}, {@link #EVAL_BATCH} at a time, in eval
 * mode without gradients, each batch in a {@code PointerScope} of its own. The trainer's test pass
 * (which also sums the loss), its scans between steps and the explorer's scan all go through it.
 *
 * <p>Runs on the thread that owns the model; the model's training mode is as before afterwards, and
 * the memory the pass freed is given back to the system ({@link NativeHeap#trim}).
 */
final class TestScan {

  /** Test images per batch: one batch's activations stay small next to the model. */
  static final int EVAL_BATCH = 500;

  private TestScan() {}

  /** One batch's codes and, for variational models, log-variances, image after image. */
  record Coded(float[] codes, float[] logVars) {}

  /** The codes of a scan, image after image, and their statistics. */
  record Scan(float[] codes, LatentStats stats) {}

  /** The posterior means (the codes) and log-variances of one batch, by the model's encoder. */
  static Coded encode(Autoencoder model, Tensor x) {
    Autoencoder.Encoded enc = model.encode(x);
    return new Coded(
        TensorData.floats(enc.mean()),
        enc.logVar() == null ? null : TensorData.floats(enc.logVar()));
  }

  /**
   * Scans the first {@code count} of {@code images} ({@code [n, pixels]} on the model's device),
   * each batch coded by {@code coder} (for example {@link #encode}).
   */
  static Scan run(Autoencoder model, Tensor images, int count, Function<Tensor, Coded> coder) {
    int d = model.latentDim();
    float[] codes = new float[count * d];
    LatentStats stats =
        new LatentStats(d, model.job().model().variational() ? Losses::klTerm : null);
    boolean training = model.is_training();
    try (NoGradGuard noGrad = new NoGradGuard();
        PointerScope scope = new PointerScope()) {
      model.eval();
      for (int from = 0; from < count; from += EVAL_BATCH) {
        int size = Math.min(EVAL_BATCH, count - from);
        try (PointerScope batchScope = new PointerScope()) {
          Coded c = coder.apply(images.narrow(0, from, size));
          System.arraycopy(c.codes(), 0, codes, from * d, c.codes().length);
          stats.add(c.codes(), c.logVars(), size);
        }
      }
    } finally {
      model.train(training);
      // The pass's feature maps are freed by now: give them back, or they sit under every later
      // peak (the steps of batch 16 reuse little of them).
      NativeHeap.trim();
    }
    return new Scan(codes, stats);
  }
}
