package dev.latentstream.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The MLP-VAE step's elementwise kernels: native and Java agree, and both match the formulas. */
class TrainingKernelsTest {

  static final TrainingKernels JAVA = new JavaFrameKernels();

  static float[] random(int n, long seed, float scale) {
    Random r = new Random(seed);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (r.nextGaussian() * scale);
    }
    return out;
  }

  static void close(float[] want, float[] got, double tol, String what) {
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), what + " at " + i);
    }
  }

  @Test
  void biasAndReluAddTheBiasPerColumnAndClipNegatives() {
    TrainingKernels k = Kernels.training();
    assertEquals(TrainingKernels.Kind.NATIVE, k.kind(), "the build ships the native kernels");
    int rows = 5, cols = 19; // 19: not a multiple of the 8-wide vectors
    float[] y = random(rows * cols, 1, 1);
    float[] bias = random(cols, 2, 1);
    for (boolean relu : new boolean[] {false, true}) {
      float[] want = new float[y.length];
      for (int i = 0; i < y.length; i++) {
        float v = y[i] + bias[i % cols];
        want[i] = relu ? Math.max(v, 0f) : v;
      }
      for (TrainingKernels impl : new TrainingKernels[] {k, JAVA}) {
        float[] got = y.clone();
        impl.biasAct(MemorySegment.ofArray(got), MemorySegment.ofArray(bias), rows, cols, relu);
        close(want, got, 0, impl.implementation() + " relu=" + relu);
      }
    }
  }

  @Test
  void reluGradientsAreMaskedAndSummedPerColumn() {
    int rows = 7, cols = 13;
    float[] grad = random(rows * cols, 3, 1);
    float[] act = random(rows * cols, 4, 1);
    for (boolean masked : new boolean[] {false, true}) {
      float[] want = new float[grad.length];
      float[] wantSum = new float[cols];
      for (int i = 0; i < grad.length; i++) {
        want[i] = masked && !(act[i] > 0) ? 0f : grad[i];
        wantSum[i % cols] += want[i];
      }
      for (TrainingKernels impl : new TrainingKernels[] {Kernels.training(), JAVA}) {
        float[] got = grad.clone();
        float[] sum = new float[cols];
        impl.reluGradColsum(
            MemorySegment.ofArray(got),
            masked ? MemorySegment.ofArray(act) : null,
            rows,
            cols,
            MemorySegment.ofArray(sum));
        close(want, got, 0, impl.implementation() + " mask");
        close(wantSum, sum, 1e-6, impl.implementation() + " column sums");
      }
    }
  }

  @Test
  void theLatentPassesMatchTheReparameterisationAndTheKlFormula() {
    int n = 37;
    float[] mu = random(n, 5, 1);
    float[] logVar = random(n, 6, 1);
    float[] eps = random(n, 7, 1);
    float[] gradZ = random(n, 8, 1);
    float scale = 0.25f;
    double wantKl = 0;
    float[] wantZ = new float[n];
    float[] wantMu = new float[n];
    float[] wantLv = new float[n];
    for (int i = 0; i < n; i++) {
      double s = Math.exp(0.5 * logVar[i]);
      wantZ[i] = (float) (mu[i] + eps[i] * s);
      wantKl += -0.5 * (1 + logVar[i] - mu[i] * mu[i] - Math.exp(logVar[i]));
      wantMu[i] = (float) (gradZ[i] + scale * mu[i]);
      wantLv[i] = (float) (gradZ[i] * eps[i] * 0.5 * s + scale * 0.5 * (Math.exp(logVar[i]) - 1));
    }
    for (TrainingKernels impl : new TrainingKernels[] {Kernels.training(), JAVA}) {
      float[] z = new float[n];
      float[] std = new float[n];
      impl.vaeSample(
          MemorySegment.ofArray(mu),
          MemorySegment.ofArray(logVar),
          MemorySegment.ofArray(eps),
          n,
          MemorySegment.ofArray(z),
          MemorySegment.ofArray(std));
      close(wantZ, z, 1e-6, impl.implementation() + " z");
      float[] gMu = new float[n];
      float[] gLv = new float[n];
      double kl =
          impl.vaeLatentBackward(
              MemorySegment.ofArray(gradZ),
              MemorySegment.ofArray(mu),
              MemorySegment.ofArray(logVar),
              MemorySegment.ofArray(eps),
              MemorySegment.ofArray(std),
              n,
              scale,
              MemorySegment.ofArray(gMu),
              MemorySegment.ofArray(gLv));
      assertEquals(wantKl, kl, 1e-6 * Math.abs(wantKl), impl.implementation() + " kl");
      close(wantMu, gMu, 1e-6, impl.implementation() + " dμ");
      close(wantLv, gLv, 1e-6, impl.implementation() + " dlog σ²");
    }
  }

  @Test
  void gatheredImagesAreTheirBytesOver255InTheGivenOrder() {
    int images = 6, size = 11;
    byte[] pixels = new byte[images * size];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 37);
    }
    long[] order = {4, 0, 5, 4};
    float[] want = new float[order.length * size];
    for (int i = 0; i < order.length; i++) {
      for (int j = 0; j < size; j++) {
        want[i * size + j] = (pixels[(int) order[i] * size + j] & 0xff) / 255f;
      }
    }
    for (TrainingKernels impl : new TrainingKernels[] {Kernels.training(), JAVA}) {
      float[] got = new float[want.length];
      impl.gatherUnit(
          MemorySegment.ofArray(pixels),
          images,
          size,
          MemorySegment.ofArray(order),
          order.length,
          MemorySegment.ofArray(got));
      close(want, got, 0, impl.implementation() + " gather");
      assertThrows(
          NativeFrameException.class,
          () ->
              impl.gatherUnit(
                  MemorySegment.ofArray(pixels),
                  images,
                  size,
                  MemorySegment.ofArray(new long[] {1, 6}),
                  2,
                  MemorySegment.ofArray(got)),
          impl.implementation());
    }
  }

  @Test
  void shortBuffersAreAnErrorNotACrashInBothImplementations() {
    float[] small = new float[4];
    MemorySegment m = MemorySegment.ofArray(small);
    for (TrainingKernels k : new TrainingKernels[] {Kernels.training(), JAVA}) {
      String impl = k.implementation();
      assertThrows(NativeFrameException.class, () -> k.biasAct(m, m, 2, 8, true), impl);
      assertThrows(NativeFrameException.class, () -> k.vaeSample(m, m, m, 5, m, m), impl);
      assertThrows(
          NativeFrameException.class, () -> k.bceWithLogits(m, m, 5, 1f, m), impl + " bce");
      assertThrows(
          NativeFrameException.class,
          () -> k.adamStep(m, m, m, m, 5, 1e-3f, 0.9f, 0.999f, 1e-8f, 1),
          impl + " adam");
      assertThrows(
          NativeFrameException.class,
          () -> k.reluGradColsum(m, MemorySegment.ofArray(new float[2]), 1, 4, m),
          impl + " short activations");
    }
  }
}
