package dev.latentstream.nativelib;

import java.lang.foreign.MemorySegment;

/**
 * Kernels the trainer calls on tensor memory: one fused Adam step (see {@code lsf_adam_step} in
 * {@code native/include/lsframes.h}). Segments hold float32 and are updated in place.
 */
public interface TrainingKernels {

  String implementation();

  /**
   * Binary cross-entropy with logits and its gradient in one pass ({@code lsf_bce_logits}): writes
   * {@code (sigmoid(l) - x) * gradScale} to {@code grad} and returns the summed loss over {@code n} values.
   */
  double bceWithLogits(MemorySegment logits, MemorySegment target, long n, float gradScale, MemorySegment grad);

  void adamStep(MemorySegment param, MemorySegment grad, MemorySegment expAvg, MemorySegment expAvgSq, long n,
      float lr, float beta1, float beta2, float eps, long step);
}
