package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.Gemm;
import dev.latentstream.nativelib.GemmBackend;
import dev.latentstream.nativelib.OpenBlas;
import dev.latentstream.nativelib.SplitWork;
import dev.latentstream.nativelib.TrainingKernels;
import dev.latentstream.optim.Optim;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The default job's step, the one-hidden-layer ReLU MLP VAE (784-400-20) with BCE and the fused
 * Adam, written out by hand: five forward and nine backward GEMMs straight to {@link Gemm}
 * (AVX-512F CPUs) or else OpenBLAS ({@code cblas_sgemm}), the elementwise work between them in
 * single native passes ({@link TrainingKernels}), and the gradients handed to Adam without
 * autograd. Through libtorch the same step is about 60 dispatched ops and an autograd graph, whose
 * overhead was as large as the GEMMs themselves on this 128-image batch.
 *
 * <p>Same model, objective and random draws as {@link StepRule.Standard}: ε comes from the model's
 * generator ({@code normal_} on a {@code [batch, latent]} tensor, what {@code randn_like} draws),
 * and the parameters are the model's own tensors, updated in place, so checkpoints, frames and the
 * test pass see them as always. Free bits, other shapes, activations and optimisers take {@link
 * StepRule.FusedVae}.
 */
final class MlpVaeStep implements StepRule.SingleOptimizer {

  private static final boolean NO_TRANS = false;
  private static final boolean TRANS = true;

  static {
    // OpenBLAS's functions are looked up among the libraries libtorch mapped.
    dev.latentstream.model.Libtorch.load();
  }

  /** The native GEMM where the CPU has AVX-512F: about half OpenBLAS's time on these shapes. */
  private static final Optional<Gemm> GEMM = Gemm.available();

  private final MlpVae model;
  private final Optim optimizer;
  private final TrainingKernels kernels;

  /**
   * The second core's share of the elementwise passes, or null on one core. Closed by {@link
   * #close}.
   */
  private final SplitWork work;

  /** OpenBLAS's thread count for this run, set by {@link Threads#configure}. */
  private final int threads;

  private final GemmBackend backend;
  private final StepRule fallback;
  private final int pixels;
  private final int hidden;
  private final int latent;
  private final int maxBatch;

  /**
   * Kept alive: the parameter wrappers below point into this vector's storage (as FusedAdam's do).
   */
  private final TensorVector parameters;

  /**
   * Parameters in the model's order: w1 b1 wMu bMu wLv bLv w3 b3 w4 b4 (encoder, μ, log σ²,
   * decoder).
   */
  private final Tensor[] params;

  private final List<MemorySegment> grads;
  private final MemorySegment[] g;
  private final long[] bytes;
  private final Tensor eps;
  private final MemorySegment epsMemory;
  private final MemorySegment h1;
  private final MemorySegment mu;
  private final MemorySegment logVar;
  private final MemorySegment std;
  private final MemorySegment z;
  private final MemorySegment h3;
  private final MemorySegment logits;
  private final MemorySegment gradLogits;
  private final MemorySegment gradH3;
  private final MemorySegment gradZ;
  private final MemorySegment gradMu;
  private final MemorySegment gradLogVar;
  private final MemorySegment gradH1;

  /** The test pass's buffers, for up to {@link #testRows} images; made at the first test batch. */
  private TestBuffers test;

  private int testRows;

  /** Whether {@code model} with {@code optimizer} can take this step. */
  static boolean supports(Autoencoder model, Optim optimizer, TrainingKernels kernels) {
    JobConfig job = model.job();
    return (GEMM.isPresent() || OpenBlas.hasSgemm())
        && StepRule.FusedVae.supports(model)
        && job.hidden().size() == 1
        && job.activation() == JobConfig.Activation.relu
        && kernels.kind() == TrainingKernels.Kind.NATIVE
        && optimizer.stepsWithGradients();
  }

  /**
   * @param threads the cores the step may use: with two or more, Adam and large BCE passes run on a
   *     helper thread too ({@link SplitWork}), started here, on the trainer thread
   */
  MlpVaeStep(MlpVae model, Optim optimizer, TrainingKernels kernels, int maxBatch, int threads) {
    this(model, optimizer, kernels, maxBatch, threads, GemmBackend.best());
  }

  /**
   * As the other constructor, with the GEMM forced (tests).
   *
   * @throws IllegalStateException when {@code backend} cannot run here, saying why
   */
  MlpVaeStep(
      MlpVae model,
      Optim optimizer,
      TrainingKernels kernels,
      int maxBatch,
      int threads,
      GemmBackend backend) {
    String unavailable = backend.unavailableReason();
    if (unavailable != null) {
      throw new IllegalStateException(unavailable);
    }
    this.backend = backend;
    this.model = model;
    this.optimizer = optimizer;
    this.kernels = kernels;
    this.threads = threads;
    this.work = threads > 1 ? new SplitWork("mlp-vae-step-helper") : null;
    this.fallback = new StepRule.FusedVae(model, optimizer, kernels);
    this.pixels = model.pixels();
    this.hidden = model.job().hidden().getFirst();
    this.latent = model.latentDim();
    this.maxBatch = maxBatch;
    StringTensorDict named = model.named_parameters();
    parameters = model.parameters();
    String[] names = {
      "encoder.linear0.weight",
      "encoder.linear0.bias",
      "mu.weight",
      "mu.bias",
      "logvar.weight",
      "logvar.bias",
      "decoder.linear0.weight",
      "decoder.linear0.bias",
      "decoder.linear1.weight",
      "decoder.linear1.bias"
    };
    Map<String, Integer> order = new HashMap<>();
    for (long i = 0; i < named.size(); i++) {
      order.put(named.get(i).key().getString(), (int) i);
    }
    if (named.size() != names.length || model.parameters().size() != names.length) {
      throw new IllegalArgumentException(
          "expected the 10 parameters of a one-hidden-layer VAE, got " + named.size());
    }
    params = new Tensor[names.length];
    bytes = new long[names.length];
    g = new MemorySegment[names.length];
    MemorySegment[] byModelOrder = new MemorySegment[names.length];
    Arena arena = Arena.ofAuto();
    for (int k = 0; k < names.length; k++) {
      Integer at = order.get(names[k]);
      if (at == null) {
        throw new IllegalArgumentException("the model has no parameter " + names[k]);
      }
      params[k] =
          parameters.get(at); // parameters() and named_parameters() list them in the same order
      if (!params[k].is_contiguous() || !TensorData.isFloat(params[k])) {
        throw new IllegalArgumentException(names[k] + " is not a contiguous float tensor");
      }
      bytes[k] = params[k].nbytes();
      g[k] = arena.allocate(4 * params[k].numel(), 64);
      byModelOrder[at] = g[k];
    }
    grads = List.of(byModelOrder);
    eps = torch.empty(maxBatch, latent);
    epsMemory = TensorData.segment(eps);
    h1 = floats(arena, (long) maxBatch * hidden);
    mu = floats(arena, (long) maxBatch * latent);
    logVar = floats(arena, (long) maxBatch * latent);
    std = floats(arena, (long) maxBatch * latent);
    z = floats(arena, (long) maxBatch * latent);
    h3 = floats(arena, (long) maxBatch * hidden);
    logits = floats(arena, (long) maxBatch * pixels);
    gradLogits = floats(arena, (long) maxBatch * pixels);
    gradH3 = floats(arena, (long) maxBatch * hidden);
    gradZ = floats(arena, (long) maxBatch * latent);
    gradMu = floats(arena, (long) maxBatch * latent);
    gradLogVar = floats(arena, (long) maxBatch * latent);
    gradH1 = floats(arena, (long) maxBatch * hidden);
  }

  private static MemorySegment floats(Arena arena, long n) {
    return arena.allocate(4 * n, 64);
  }

  @Override
  public Map<String, Double> step(Tensor x, double beta, double freeBits) {
    int b = (int) x.size(0);
    if (freeBits > 0 || b > maxBatch) {
      return fallback.step(x, beta, freeBits);
    }
    Tensor input = x.is_contiguous() ? x : x.contiguous();
    MemorySegment xs = TensorData.segment(input);
    MemorySegment w1 = p(0),
        b1 = p(1),
        wMu = p(2),
        bMu = p(3),
        wLv = p(4),
        bLv = p(5),
        w3 = p(6),
        b3 = p(7),
        w4 = p(8),
        b4 = p(9);
    int d = pixels, h = hidden, l = latent;
    // Forward: h1 = relu(x W1ᵀ + b1), μ and log σ² from h1, z = μ + ε σ, h3 = relu(z W3ᵀ + b3),
    // logits.
    backend.sgemm(NO_TRANS, TRANS, b, h, d, xs, d, w1, d, 0, h1, h);
    kernels.biasAct(h1, b1, b, h, true);
    backend.sgemm(NO_TRANS, TRANS, b, l, h, h1, h, wMu, h, 0, mu, l);
    kernels.biasAct(mu, bMu, b, l, false);
    backend.sgemm(NO_TRANS, TRANS, b, l, h, h1, h, wLv, h, 0, logVar, l);
    kernels.biasAct(logVar, bLv, b, l, false);
    Tensor noise = b == maxBatch ? eps : eps.narrow(0, 0, b);
    noise.normal_(0, 1, model.draws());
    MemorySegment e = epsMemory;
    kernels.vaeSample(mu, logVar, e, (long) b * l, z, std);
    onOneThread(() -> backend.sgemm(NO_TRANS, TRANS, b, h, l, z, l, w3, l, 0, h3, h));
    kernels.biasAct(h3, b3, b, h, true);
    backend.sgemm(NO_TRANS, TRANS, b, d, h, h3, h, w4, h, 0, logits, d);
    kernels.biasAct(logits, b4, b, d, false);
    // Loss and the gradient of its logits in one pass.
    boolean sum = model.job().reduction() == JobConfig.Reduction.sum;
    long n = (long) b * d;
    double divisor = sum ? b : (double) n;
    double recon =
        StepRule.checked(
            "recon", bce(logits, xs, b, d, (float) (1 / divisor), gradLogits) / divisor);
    // Backward, decoder first.
    backend.sgemm(TRANS, NO_TRANS, d, h, b, gradLogits, d, h3, h, 0, g[8], h);
    kernels.reluGradColsum(gradLogits, null, b, d, g[9]);
    backend.sgemm(NO_TRANS, NO_TRANS, b, h, d, gradLogits, d, w4, h, 0, gradH3, h);
    kernels.reluGradColsum(gradH3, h3, b, h, g[7]);
    backend.sgemm(TRANS, NO_TRANS, h, l, b, gradH3, h, z, l, 0, g[6], l);
    backend.sgemm(NO_TRANS, NO_TRANS, b, l, h, gradH3, h, w3, l, 0, gradZ, l);
    double klDivisor = sum ? b : (double) b * l;
    double kl =
        StepRule.checked(
            "kl",
            kernels.vaeLatentBackward(
                    gradZ,
                    mu,
                    logVar,
                    e,
                    std,
                    (long) b * l,
                    (float) (beta / klDivisor),
                    gradMu,
                    gradLogVar)
                / klDivisor);
    backend.sgemm(TRANS, NO_TRANS, l, h, b, gradMu, l, h1, h, 0, g[2], h);
    kernels.reluGradColsum(gradMu, null, b, l, g[3]);
    backend.sgemm(TRANS, NO_TRANS, l, h, b, gradLogVar, l, h1, h, 0, g[4], h);
    kernels.reluGradColsum(gradLogVar, null, b, l, g[5]);
    onOneThread(() -> backend.sgemm(NO_TRANS, NO_TRANS, b, h, l, gradMu, l, wMu, h, 0, gradH1, h));
    onOneThread(
        () -> backend.sgemm(NO_TRANS, NO_TRANS, b, h, l, gradLogVar, l, wLv, h, 1, gradH1, h));
    kernels.reluGradColsum(gradH1, h1, b, h, g[1]);
    backend.sgemm(TRANS, NO_TRANS, h, d, b, gradH1, h, xs, d, 0, g[0], d);
    if (work != null) {
      optimizer.stepWith(grads, work);
    } else {
      optimizer.stepWith(grads);
    }
    Map<String, Double> terms = new LinkedHashMap<>();
    terms.put("recon", recon);
    terms.put("kl", kl);
    terms.put("loss", recon + beta * kl);
    return terms;
  }

  /** Rows per chunk of the split BCE pass: 16 images, 12,544 values. */
  private static final int BCE_ROWS = 16;

  /**
   * The fewest rows worth splitting. A 128-image training batch is not: since the kernel went 16
   * wide it takes about 90 µs, and waking the helper ate the gain (93 µs on one thread, 97 µs
   * split, loaded machine). A 500-image test batch is: the test pass took 52-58 ms split against
   * 54-62 ms.
   */
  static final int BCE_SPLIT_ROWS = 256;

  /**
   * {@link TrainingKernels#bceWithLogits} over {@code rows} rows of {@code cols}, split by rows
   * between this thread and the helper when there is one and the batch has at least {@link
   * #BCE_SPLIT_ROWS} rows. Chunk sums are added in chunk order, so the loss does not depend on
   * which thread ran which chunk.
   */
  private double bce(
      MemorySegment logits,
      MemorySegment target,
      int rows,
      int cols,
      float gradScale,
      MemorySegment grad) {
    if (work == null || rows < BCE_SPLIT_ROWS) {
      return kernels.bceWithLogits(logits, target, (long) rows * cols, gradScale, grad);
    }
    int chunks = (rows + BCE_ROWS - 1) / BCE_ROWS;
    double[] sums = new double[chunks];
    long rowBytes = 4L * cols;
    work.forEach(
        chunks,
        c -> {
          int first = c * BCE_ROWS;
          int count = Math.min(BCE_ROWS, rows - first);
          long offset = first * rowBytes;
          long bytes = count * rowBytes;
          sums[c] =
              kernels.bceWithLogits(
                  logits.asSlice(offset, bytes),
                  target.asSlice(offset, bytes),
                  (long) count * cols,
                  gradScale,
                  grad.asSlice(offset, bytes));
        });
    double sum = 0;
    for (double part : sums) {
      sum += part;
    }
    return sum;
  }

  /** Ends the helper thread. */
  @Override
  public void close() {
    if (work != null) {
      work.close();
    }
  }

  /**
   * Parameter k's memory, looked up at each step: loading a checkpoint replaces a parameter's
   * storage ({@code set_}), so an address taken before it would be stale.
   */
  private MemorySegment p(int k) {
    return MemorySegment.ofAddress(params[k].data_ptr().address()).reinterpret(bytes[k]);
  }

  /**
   * Runs {@code product} on one OpenBLAS thread: the 128×400 GEMMs with an inner dimension of 20 (z
   * to h3, and back from μ and log σ² to h1) are faster on one thread than on two, where splitting
   * them costs more than it saves (docs/benchmarks.md). OpenBLAS's count is process-wide, so {@link
   * Threads#onOneBlasThread} lowers it only while no other job runs, and sets it back to what the
   * jobs' claims set.
   */
  private void onOneThread(Runnable product) {
    if (threads <= 1
        || backend == GemmBackend.LSGEMM) { // lsgemm keeps small products on one thread
      product.run();
      return;
    }
    Threads.onOneBlasThread(product);
  }

  /** Forward-only buffers of the test pass: the activations of {@code rows} images. */
  private record TestBuffers(
      MemorySegment h1,
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment std,
      MemorySegment z,
      MemorySegment h3,
      MemorySegment logits,
      MemorySegment scratch) {

    static TestBuffers of(int rows, int pixels, int hidden, int latent) {
      Arena arena = Arena.ofAuto();
      return new TestBuffers(
          floats(arena, (long) rows * hidden),
          floats(arena, (long) rows * latent),
          floats(arena, (long) rows * latent),
          floats(arena, (long) rows * latent),
          floats(arena, (long) rows * latent),
          floats(arena, (long) rows * hidden),
          floats(arena, (long) rows * pixels),
          floats(arena, (long) rows * pixels));
    }
  }

  /**
   * The test loss of one batch, the forward half of {@link #step} with the same draws as the
   * model's own {@code losses} (ε from {@code normal_} on a {@code [rows, latent]} tensor, as
   * {@code randn_like}): the libtorch forward of a 500-image test batch is a dozen dispatched ops
   * and their temporaries, and a 10k-image test pass took 104 ms that way against 62 ms here
   * (StepBenchmark). Free bits change the objective: those batches take the model's path.
   */
  @Override
  public Optional<TestBatch> test(Tensor x, double beta, double freeBits) {
    if (freeBits > 0) {
      return Optional.empty();
    }
    int b = (int) x.size(0);
    if (test == null || b > testRows) {
      test = TestBuffers.of(b, pixels, hidden, latent);
      testRows = b;
    }
    Tensor input = x.is_contiguous() ? x : x.contiguous();
    MemorySegment xs = TensorData.segment(input);
    int d = pixels, h = hidden, l = latent;
    TestBuffers t = test;
    backend.sgemm(NO_TRANS, TRANS, b, h, d, xs, d, p(0), d, 0, t.h1(), h);
    kernels.biasAct(t.h1(), p(1), b, h, true);
    backend.sgemm(NO_TRANS, TRANS, b, l, h, t.h1(), h, p(2), h, 0, t.mu(), l);
    kernels.biasAct(t.mu(), p(3), b, l, false);
    backend.sgemm(NO_TRANS, TRANS, b, l, h, t.h1(), h, p(4), h, 0, t.logVar(), l);
    kernels.biasAct(t.logVar(), p(5), b, l, false);
    // In the caller's PointerScope: a tensor kept across test passes would be freed with the first
    // one's scope.
    Tensor noise = torch.empty(b, l);
    noise.normal_(0, 1, model.draws());
    kernels.vaeSample(t.mu(), t.logVar(), TensorData.segment(noise), (long) b * l, t.z(), t.std());
    onOneThread(() -> backend.sgemm(NO_TRANS, TRANS, b, h, l, t.z(), l, p(6), l, 0, t.h3(), h));
    kernels.biasAct(t.h3(), p(7), b, h, true);
    backend.sgemm(NO_TRANS, TRANS, b, d, h, t.h3(), h, p(8), h, 0, t.logits(), d);
    kernels.biasAct(t.logits(), p(9), b, d, false);
    boolean sum = model.job().reduction() == JobConfig.Reduction.sum;
    long n = (long) b * d;
    double recon = bce(t.logits(), xs, b, d, 0f, t.scratch()) / (sum ? b : (double) n);
    float[] means = t.mu().asSlice(0, 4L * b * l).toArray(ValueLayout.JAVA_FLOAT);
    float[] logVars = t.logVar().asSlice(0, 4L * b * l).toArray(ValueLayout.JAVA_FLOAT);
    // In double, as lsf_vae_latent_backward sums it.
    double klSum = 0;
    for (int i = 0; i < means.length; i++) {
      klSum += Losses.klTerm(means[i], logVars[i]);
    }
    double kl = klSum / (sum ? b : (double) b * l);
    return Optional.of(new TestBatch(recon + beta * kl, means, logVars));
  }

  /**
   * The noise the last step drew for its first {@code rows} images (tests: the same ε for a
   * reference).
   */
  Tensor noise(int rows) {
    return eps.narrow(0, 0, rows);
  }

  @Override
  public Optim optimizer() {
    return optimizer;
  }
}
