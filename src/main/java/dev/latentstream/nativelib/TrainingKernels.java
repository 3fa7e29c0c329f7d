package dev.latentstream.nativelib;

import java.lang.foreign.MemorySegment;

/**
 * Kernels the trainer calls on tensor memory: one fused Adam step (see {@code lsf_adam_step} in
 * {@code native/include/lsframes.h}). Segments hold float32 and are updated in place.
 */
public interface TrainingKernels {

  String implementation();

  /**
   * Native code (liblsframes) or the Java fallback: what a caller chooses by, where
   * implementation() is for people.
   */
  enum Kind {
    NATIVE,
    JAVA
  }

  Kind kind();

  /**
   * Binary cross-entropy with logits and its gradient in one pass ({@code lsf_bce_logits}): writes
   * {@code (sigmoid(l) - x) * gradScale} to {@code grad} and returns the summed loss over {@code n}
   * values.
   */
  double bceWithLogits(
      MemorySegment logits, MemorySegment target, long n, float gradScale, MemorySegment grad);

  void adamStep(
      MemorySegment param,
      MemorySegment grad,
      MemorySegment expAvg,
      MemorySegment expAvgSq,
      long n,
      float lr,
      float beta1,
      float beta2,
      float eps,
      long step);

  /**
   * {@code y[r][c] += bias[c]} over a row-major {@code rows x cols} matrix, then max(y, 0) when
   * {@code relu}.
   */
  void biasAct(MemorySegment y, MemorySegment bias, long rows, long cols, boolean relu);

  /**
   * Zeroes {@code grad} where {@code act <= 0} ({@code act} null: no mask), then writes the column
   * sums of {@code grad}, the bias gradient, to {@code biasGrad}.
   */
  void reluGradColsum(
      MemorySegment grad, MemorySegment act, long rows, long cols, MemorySegment biasGrad);

  /**
   * The reparameterisation: {@code std = exp(logVar / 2)}, {@code z = mu + eps * std}, over n
   * values.
   */
  void vaeSample(
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      long n,
      MemorySegment z,
      MemorySegment std);

  /**
   * From the gradient reaching z, the gradients of loss + {@code klScale} · KL with respect to μ
   * and log σ²; returns the summed KL, -1/2 Σ(1 + log σ² − μ² − σ²).
   */
  double vaeLatentBackward(
      MemorySegment gradZ,
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      MemorySegment std,
      long n,
      float klScale,
      MemorySegment gradMu,
      MemorySegment gradLogVar);

  /**
   * Images {@code order[0 .. count-1]} of {@code pixels} ({@code imageSize} unsigned bytes each,
   * {@code images} of them) as floats b / 255 into {@code out}.
   *
   * @throws NativeFrameException when an index is outside the images or a buffer is too small
   */
  void gatherUnit(
      MemorySegment pixels,
      long images,
      long imageSize,
      MemorySegment order,
      long count,
      MemorySegment out);
}
