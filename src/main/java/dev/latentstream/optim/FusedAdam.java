package dev.latentstream.optim;

import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.TrainingKernels;
import java.lang.foreign.MemorySegment;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Adam with PyTorch's defaults (β = 0.9, 0.999, ε = 1e-8, no weight decay) and the same update as
 * libtorch's Adam, done in one pass per parameter by {@code lsf_adam_step} on the tensors' memory:
 * libtorch's version makes seven passes and two temporaries per parameter, which on the MLP VAE
 * cost more than twice this one pass (figures: docs/benchmarks.md, "Figures behind the code"). CPU
 * only; the trainer uses libtorch's Adam elsewhere.
 *
 * <p>Ownership: the moment tensors are created here, outside any {@code PointerScope}, and freed by
 * {@link #close()} on the trainer thread.
 */
final class FusedAdam implements Optim {

  static final float BETA1 = (float) AdamState.BETA1;
  static final float BETA2 = (float) AdamState.BETA2;
  static final float EPS = (float) AdamState.EPS;

  private final TrainingKernels kernels;

  /** Kept alive: the parameter wrappers below point into this vector's storage. */
  private final TensorVector parameters;

  private final Tensor[] params;
  private final Tensor[] expAvg;
  private final Tensor[] expAvgSq;
  private double lr;
  private long steps;

  FusedAdam(TensorVector parameters, double lr, TrainingKernels kernels) {
    this.kernels = kernels;
    this.parameters = parameters;
    this.lr = lr;
    int n = (int) parameters.size();
    params = new Tensor[n];
    expAvg = new Tensor[n];
    expAvgSq = new Tensor[n];
    for (int i = 0; i < n; i++) {
      params[i] = parameters.get(i);
      expAvg[i] = torch.zeros_like(params[i]);
      expAvgSq[i] = torch.zeros_like(params[i]);
    }
  }

  /** Whether every parameter is a contiguous CPU float tensor, which the kernel needs. */
  static boolean supports(TensorVector parameters) {
    for (long i = 0; i < parameters.size(); i++) {
      Tensor p = parameters.get(i);
      if (!p.device().is_cpu() || !p.is_contiguous() || !TensorData.isFloat(p)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Drops the gradients (set to none, as libtorch's zero_grad does), so backward writes fresh ones.
   */
  @Override
  public void zeroGrad() {
    for (Tensor p : params) {
      Tensor g = p.mutable_grad();
      if (g.defined()) {
        g.reset();
      }
    }
  }

  @Override
  public void step() {
    steps++;
    for (int i = 0; i < params.length; i++) {
      Tensor g = params[i].grad();
      if (!g.defined()) {
        continue;
      }
      Tensor grad = g.is_contiguous() ? g : g.contiguous();
      update(i, memory(grad));
    }
  }

  @Override
  public boolean stepsWithGradients() {
    return true;
  }

  /**
   * Floats per chunk of the two-thread update: 64 KiB per array, so four arrays of a chunk stay in
   * L2 and the MLP VAE's 650k parameters make about 40 chunks for the two threads to share.
   */
  static final int CHUNK = 16_384;

  /**
   * The same update as {@link #stepWith(java.util.List)}, in chunks of {@link #CHUNK} floats on
   * this thread and {@code work}'s helper: one pass over 10 MB of parameters, gradients and moments
   * is bound by memory, and on one core it was a noticeable part of an MLP VAE step while the other
   * core waited (figures: docs/benchmarks.md). Elementwise, so the result is the same whichever
   * thread updates which chunk.
   */
  @Override
  public boolean stepWith(
      java.util.List<MemorySegment> gradients, dev.latentstream.nativelib.SplitWork work) {
    if (gradients.size() != params.length) {
      throw new IllegalArgumentException(
          gradients.size() + " gradients for " + params.length + " parameters");
    }
    steps++;
    MemorySegment[] p = new MemorySegment[params.length];
    MemorySegment[] m = new MemorySegment[params.length];
    MemorySegment[] v = new MemorySegment[params.length];
    int chunks = 0;
    for (int i = 0; i < params.length; i++) {
      p[i] = memory(params[i]);
      m[i] = memory(expAvg[i]);
      v[i] = memory(expAvgSq[i]);
      chunks += (int) ((params[i].numel() + CHUNK - 1) / CHUNK);
    }
    // chunk k -> (parameter, first float): laid out parameter after parameter
    int[] param = new int[chunks];
    long[] from = new long[chunks];
    long[] count = new long[chunks];
    int k = 0;
    for (int i = 0; i < params.length; i++) {
      long n = params[i].numel();
      for (long f = 0; f < n; f += CHUNK) {
        param[k] = i;
        from[k] = f;
        count[k] = Math.min(CHUNK, n - f);
        k++;
      }
    }
    float rate = (float) lr;
    long t = steps;
    work.forEach(
        chunks,
        c -> {
          int i = param[c];
          long offset = 4 * from[c];
          long bytes = 4 * count[c];
          kernels.adamStep(
              p[i].asSlice(offset, bytes),
              gradients.get(i).asSlice(offset, bytes),
              m[i].asSlice(offset, bytes),
              v[i].asSlice(offset, bytes),
              count[c],
              rate,
              BETA1,
              BETA2,
              EPS,
              t);
        });
    return true;
  }

  @Override
  public boolean stepWith(java.util.List<MemorySegment> gradients) {
    if (gradients.size() != params.length) {
      throw new IllegalArgumentException(
          gradients.size() + " gradients for " + params.length + " parameters");
    }
    steps++;
    for (int i = 0; i < params.length; i++) {
      update(i, gradients.get(i));
    }
    return true;
  }

  /**
   * One fused Adam step of parameter {@code i} with {@code gradient}, at the current step count.
   */
  private void update(int i, MemorySegment gradient) {
    kernels.adamStep(
        memory(params[i]),
        gradient,
        memory(expAvg[i]),
        memory(expAvgSq[i]),
        params[i].numel(),
        (float) lr,
        BETA1,
        BETA2,
        EPS,
        steps);
  }

  private static MemorySegment memory(Tensor t) {
    return MemorySegment.ofAddress(t.data_ptr().address()).reinterpret(t.nbytes());
  }

  @Override
  public void setLearningRate(double lr) {
    this.lr = lr;
  }

  @Override
  public double learningRate() {
    return lr;
  }

  /** Writes libtorch's Adam layout ({@link AdamState}), which libtorch's Adam reads as its own. */
  @Override
  public void save(OutputArchive archive) {
    AdamState.write(archive, new AdamState.Values(lr, steps, expAvg, expAvgSq));
  }

  /** The layout this class wrote before {@link AdamState}'s, for tests of the conversion. */
  void saveFormerLayout(OutputArchive archive) {
    archive.write("steps", new org.bytedeco.pytorch.IValue(steps));
    archive.write("lr", new org.bytedeco.pytorch.IValue(lr));
    for (int i = 0; i < params.length; i++) {
      archive.write("exp_avg." + i, expAvg[i]);
      archive.write("exp_avg_sq." + i, expAvgSq[i]);
    }
  }

  /**
   * Reads libtorch's Adam layout, or the one this class wrote before it ({@link AdamState#read}).
   */
  @Override
  public void load(InputArchive archive) {
    AdamState.Values v = AdamState.read(archive, params.length);
    try {
      for (int i = 0; i < params.length; i++) {
        if (v.expAvg()[i] == null) {
          expAvg[i].zero_();
          expAvgSq[i].zero_();
        } else {
          // Into the tensors already here: their memory stays on this optimiser's device and in its
          // layout.
          expAvg[i].copy_(v.expAvg()[i]);
          expAvgSq[i].copy_(v.expAvgSq()[i]);
        }
      }
    } finally {
      for (int i = 0; i < params.length; i++) {
        if (v.expAvg()[i] != null) {
          v.expAvg()[i].close();
          v.expAvgSq()[i].close();
        }
      }
    }
    steps = v.step();
    lr = v.lr();
  }

  @Override
  public void close() {
    for (int i = 0; i < params.length; i++) {
      expAvg[i].close();
      expAvgSq[i].close();
    }
    parameters.close();
  }
}
