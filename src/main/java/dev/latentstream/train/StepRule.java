package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.randn;

import dev.latentstream.config.JobConfig;
import dev.latentstream.model.AdversarialAutoencoder;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.TensorData;
import dev.latentstream.model.VariationalAutoencoder;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.nativelib.TrainingKernels;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * One optimisation step on one batch. Runs inside the trainer's per-step {@code PointerScope}.
 * Every loss is checked before its optimiser steps, so a NaN never reaches the weights.
 */
interface StepRule {

  /**
   * Trains on {@code x} ({@code [batch, pixels]}, clean) and returns the loss terms per image;
   * {@code beta} and {@code freeBits} shape the KL term of variational models.
   */
  Map<String, Double> step(Tensor x, double beta, double freeBits);

  /**
   * The test loss of one batch ({@code [batch, pixels]}, clean) per image, with the posterior means
   * and log-variances, when this rule computes it with kernels of its own; empty when the model's
   * libtorch forward ({@code losses}) is the way, as for every rule but {@link MlpVaeStep}.
   */
  default Optional<TestBatch> test(Tensor x, double beta, double freeBits) {
    return Optional.empty();
  }

  /** One test batch: its loss per image and the posterior of each image, image after image. */
  record TestBatch(double loss, float[] means, float[] logVars) {}

  /** The optimisers, in checkpoint order. */
  List<Optim> optimizers();

  /** The optimisers that follow the {@code lr} live setting: all of them, unless a rule says. */
  default List<Optim> tunable() {
    return optimizers();
  }

  /** A rule with one optimiser, which is all its optimisers. */
  interface SingleOptimizer extends StepRule {
    Optim optimizer();

    @Override
    default List<Optim> optimizers() {
      return List.of(optimizer());
    }
  }

  /**
   * Ends what the rule started (the hand-written step's helper thread); the optimisers are closed
   * apart.
   */
  default void close() {}

  static StepRule forModel(Autoencoder model) {
    return forModel(model, 1);
  }

  /**
   * The step for {@code model} on its job's engine, which may use {@code threads} cores for its own
   * elementwise work: on {@code libtorch} autograd and libtorch's optimisers; on {@code native} and
   * {@code auto} the hand-written step, loss or optimiser wherever one applies ({@link #engine()}
   * says which ran).
   *
   * @throws IllegalArgumentException when the engine is {@code native} and no hand-written kernel
   *     applies, naming the reason
   */
  static StepRule forModel(Autoencoder model, int threads) {
    var job = model.job();
    JobConfig.Engine engine = job.engine();
    if (engine == JobConfig.Engine.NATIVE) {
      String refusal = nativeRefusal(model);
      if (refusal != null) {
        throw new IllegalArgumentException(
            "engine \"native\" cannot run this job: " + refusal + " (use engine libtorch or auto)");
      }
    }
    if (model instanceof AdversarialAutoencoder aae) {
      Optim recon =
          Optimizers.create(
              job.optimizer(),
              Optimizers.concat(aae.encoderModule().parameters(), aae.decoderModule().parameters()),
              job.lr(),
              engine);
      Optim disc =
          Optimizers.create(
              job.optimizer(),
              aae.discriminatorModule().parameters(),
              job.discriminator().lr(),
              engine);
      Optim gen =
          Optimizers.create(job.optimizer(), aae.encoderModule().parameters(), job.lr(), engine);
      return new Adversarial(aae, recon, disc, gen);
    }
    Optim optimizer = Optimizers.create(job.optimizer(), model.parameters(), job.lr(), engine);
    if (engine == JobConfig.Engine.LIBTORCH) {
      return new Standard(model, optimizer);
    }
    TrainingKernels kernels = Kernels.training();
    if (model instanceof MlpVae vae && MlpVaeStep.supports(model, optimizer, kernels)) {
      return new MlpVaeStep(vae, optimizer, kernels, job.batchSize(), threads);
    }
    if (FusedVae.supports(model) && kernels.kind() == TrainingKernels.Kind.NATIVE) {
      return new FusedVae((MlpVae) model, optimizer, kernels);
    }
    return new Standard(model, optimizer);
  }

  /**
   * Why the native engine cannot run {@code model}'s job, or null when some hand-written kernel
   * applies: the MLP VAE's fused BCE and KL step (CPU, bce loss) or the fused Adam (CPU, adam).
   */
  static String nativeRefusal(Autoencoder model) {
    JobConfig job = model.job();
    if (Kernels.training().kind() != TrainingKernels.Kind.NATIVE) {
      return "the native library is not loaded (" + Kernels.fallbackReason() + ")";
    }
    if (!Devices.resolve(job.device()).is_cpu()) {
      return "the hand-written kernels run on the CPU, and this job's device is " + job.device();
    }
    if (FusedVae.supports(model) || Optimizers.nativeAdam(job.optimizer(), model.parameters())) {
      return null;
    }
    return "the hand-written kernels are the VAE's bce step and the Adam optimiser, and this job is "
        + job.model().wireName()
        + " with "
        + job.optimizer()
        + " and loss "
        + job.loss();
  }

  /**
   * The engine this rule computes with: {@code native} when any hand-written kernel takes part,
   * else {@code libtorch}.
   */
  default JobConfig.Engine engine() {
    boolean hand =
        this instanceof MlpVaeStep
            || this instanceof FusedVae
            || optimizers().stream().anyMatch(Optimizers::isNative);
    return hand ? JobConfig.Engine.NATIVE : JobConfig.Engine.LIBTORCH;
  }

  static double checked(String term, Tensor value) {
    return checked(term, value.item_double());
  }

  /** {@code v}, or TrainingDiverged when it is not finite. */
  static double checked(String term, double v) {
    if (!Double.isFinite(v)) {
      throw new TrainingDiverged("loss term '" + term + "' became " + v);
    }
    return v;
  }

  /**
   * Reconstruction (+ β·KL) with one optimiser: ae, dae, vae, conv-vae. The denoising autoencoder's
   * corrupted batch is written into one tensor the rule owns and rewrites each step ({@link
   * MlpAutoencoder#corruptInto}), freed by {@link #close}.
   */
  final class Standard implements SingleOptimizer {
    private final Autoencoder model;
    private final Optim optimizer;

    /** The dae's corrupted batch, rows for a full batch; null before its first step. */
    private Tensor corrupted;

    Standard(Autoencoder model, Optim optimizer) {
      this.model = model;
      this.optimizer = optimizer;
    }

    @Override
    public Optim optimizer() {
      return optimizer;
    }

    @Override
    public Map<String, Double> step(Tensor x, double beta, double freeBits) {
      Tensor input = model instanceof MlpAutoencoder ae ? corrupt(ae, x) : x;
      Losses losses = model.losses(input, x, beta, freeBits);
      Map<String, Double> terms = new LinkedHashMap<>();
      // ae and dae report their one term as both recon and loss: one tensor, read once.
      Map<Tensor, Double> read = new IdentityHashMap<>();
      losses
          .terms()
          .forEach(
              (name, t) -> {
                Double value = read.get(t);
                if (value == null) {
                  value = checked(name, t);
                  read.put(t, value);
                }
                terms.put(name, value);
              });
      optimizer.zeroGrad();
      losses.total().backward();
      optimizer.step();
      return terms;
    }

    /** {@code x} corrupted into the rule's own tensor; {@code x} itself for the plain ae. */
    private Tensor corrupt(MlpAutoencoder ae, Tensor x) {
      if (ae.job().noise() == null) {
        return x;
      }
      long rows = x.size(0);
      if (corrupted == null || corrupted.size(0) < rows || corrupted.size(1) != x.size(1)) {
        if (corrupted != null) {
          corrupted.close();
        }
        corrupted = x.new_empty(Math.max(rows, ae.job().batchSize()), x.size(1));
        // Kept across steps, not the step's scope's to free: detaching releases the scope's
        // reference, so the rule takes one of its own first, released by close().
        corrupted.retainReference();
        PointerScope scope = PointerScope.getInnerScope();
        if (scope != null) {
          scope.detach(corrupted);
        }
      }
      return ae.corruptInto(
          x, rows == corrupted.size(0) ? corrupted : corrupted.narrow(0, 0, rows));
    }

    @Override
    public void close() {
      if (corrupted != null) {
        corrupted.close();
        corrupted = null;
      }
    }
  }

  /**
   * The VAE step with the reconstruction loss and its gradient done in one native pass ({@code
   * lsf_bce_logits}) over the decoder's logits, fed to backward together with the KL term:
   * libtorch's BCE-with-logits makes one pass for the loss and another, after a chain of autograd
   * nodes, for the gradient. Same objective and same random draws as {@link Standard}, so the two
   * give the same run.
   */
  record FusedVae(VariationalAutoencoder model, Optim optimizer, TrainingKernels kernels)
      implements SingleOptimizer {

    /** The MLP VAE on the CPU, trained with the bce loss. */
    static boolean supports(Autoencoder model) {
      return model instanceof MlpVae
          && model.job().loss() == JobConfig.ReconLoss.bce
          && Devices.resolve(model.job().device()).is_cpu();
    }

    @Override
    public Map<String, Double> step(Tensor x, double beta, double freeBits) {
      VariationalAutoencoder.Pass pass = model.forward(x);
      Autoencoder.Encoded e = pass.posterior();
      Tensor logits = pass.logits();
      Tensor values = logits.is_contiguous() ? logits : logits.contiguous();
      Tensor target = x.is_contiguous() ? x : x.contiguous();
      long batch = x.size(0);
      long n = values.numel();
      double divisor = model.job().reduction() == JobConfig.Reduction.sum ? batch : (double) n;
      Tensor grad = torch.empty_like(values);
      double recon =
          checked(
              "recon",
              kernels.bceWithLogits(
                      TensorData.segment(values),
                      TensorData.segment(target),
                      n,
                      (float) (1 / divisor),
                      TensorData.segment(grad))
                  / divisor);
      optimizer.zeroGrad();
      double klValue;
      double optimisedKl;
      if (freeBits > 0) {
        // Free bits clamp each dimension's batch-mean KL: left to libtorch's autograd.
        Tensor kl = Losses.kl(e.mean(), e.logVar(), model.job().reduction());
        Tensor optimised =
            Losses.freeBitsKl(e.mean(), e.logVar(), freeBits, model.job().reduction());
        klValue = checked("kl", kl);
        optimisedKl = checked("kl", optimised);
        TensorVector roots = new TensorVector(values, optimised);
        TensorVector grads =
            new TensorVector(grad, torch.ones_like(optimised).mul(new Scalar(beta)));
        torch.backward(roots, grads, new BoolOptional(), false, new TensorVector());
      } else {
        // The KL term and its gradients with respect to μ and log σ² in one pass here, fed to
        // backward beside the logits' gradient: autograd's chain for the KL would be about 16
        // small ops.
        Tensor mu = e.mean().is_contiguous() ? e.mean() : e.mean().contiguous();
        Tensor logVar = e.logVar().is_contiguous() ? e.logVar() : e.logVar().contiguous();
        double klDivisor = Losses.klDivisor(mu, model.job().reduction());
        Tensor gradMu = torch.empty_like(mu);
        Tensor gradLogVar = torch.empty_like(logVar);
        klValue =
            checked(
                "kl",
                klAndGradients(
                        TensorData.segment(mu),
                        TensorData.segment(logVar),
                        mu.numel(),
                        beta / klDivisor,
                        TensorData.segment(gradMu),
                        TensorData.segment(gradLogVar))
                    / klDivisor);
        optimisedKl = klValue;
        TensorVector roots = new TensorVector(values, mu, logVar);
        TensorVector grads = new TensorVector(grad, gradMu, gradLogVar);
        torch.backward(roots, grads, new BoolOptional(), false, new TensorVector());
      }
      double loss = recon + beta * optimisedKl;
      optimizer.step();
      Map<String, Double> terms = new LinkedHashMap<>();
      terms.put("recon", recon);
      terms.put("kl", klValue);
      terms.put("loss", loss);
      return terms;
    }

    /**
     * {@link Losses#klTerm} summed over {@code n} values, and its gradients times {@code scale}:
     * ∂/∂μ = μ, ∂/∂log σ² = (σ² − 1) / 2.
     */
    static double klAndGradients(
        MemorySegment mu,
        MemorySegment logVar,
        long n,
        double scale,
        MemorySegment gradMu,
        MemorySegment gradLogVar) {
      double sum = 0;
      for (long i = 0; i < n; i++) {
        double m = mu.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        double lv = logVar.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        double variance = Math.exp(lv);
        sum += Losses.klTerm(m, lv);
        gradMu.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (scale * m));
        gradLogVar.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (scale * 0.5 * (variance - 1)));
      }
      return sum;
    }
  }

  /** The adversarial autoencoder's three phases: reconstruction, discriminator, generator. */
  record Adversarial(AdversarialAutoencoder model, Optim recon, Optim disc, Optim gen)
      implements StepRule {
    @Override
    public Map<String, Double> step(Tensor x, double beta, double freeBits) {
      Losses r = model.losses(x, x, 0);
      double reconValue = checked("recon", r.total());
      recon.zeroGrad();
      r.total().backward();
      recon.step();

      Tensor prior =
          randn(
              new long[] {x.size(0), model.latentDim()},
              model.draws(),
              new TensorOptions(x.device()));
      // One encoder pass serves both phases: the discriminator's step leaves the encoder as it is,
      // so a second pass would give the same codes (the peer, like the paper's pseudo-code, makes
      // two); the discriminator sees them detached, the generator's backward goes through them.
      Tensor codes = model.encode(x).mean();
      Tensor d = model.discriminatorLoss(prior, codes);
      double discValue = checked("disc", d);
      disc.zeroGrad();
      d.backward();
      disc.step();

      Tensor g = model.generatorLoss(codes);
      double genValue = checked("gen", g);
      gen.zeroGrad();
      // Into the encoder's gradients alone: g.backward() would also compute the discriminator's
      // weight gradients, which its next zeroGrad drops unused (the peer computes them all the
      // same); the gradients that reach the encoder are computed as before, bit for bit.
      torch.backward(
          new TensorVector(g),
          new TensorVector(),
          new BoolOptional(),
          false,
          model.encoderModule().parameters());
      gen.step();

      Map<String, Double> terms = new LinkedHashMap<>();
      terms.put("recon", reconValue);
      terms.put("disc", discValue);
      terms.put("gen", genValue);
      terms.put("loss", reconValue);
      return terms;
    }

    @Override
    public List<Optim> optimizers() {
      return List.of(recon, disc, gen);
    }

    /** The discriminator keeps its own learning rate. */
    @Override
    public List<Optim> tunable() {
      return List.of(recon, gen);
    }
  }
}
