package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Synthetic;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.TensorData;
import dev.latentstream.nativelib.GemmBackend;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hand-written step's gradients at the default job's real shape (784-400-20, batch 128) against
 * autograd through the model's own definition ({@code VariationalAutoencoder.forward}, {@code
 * Losses.variational} with its one KL, {@code Losses.klTerm}) on a double-precision copy with the
 * same ε, and its reported recon, KL and loss against that definition's: every parameter within
 * 1e-4 relative (‖native − reference‖ / ‖reference‖), on one and two threads, with each GEMM
 * forced. A gradient off by a constant factor would pass a comparison of trained losses (Adam
 * divides it out); not this one. On a CPU without AVX-512F the lsgemm cases fail saying so.
 */
class MlpVaeGradientTest {

  static final Dataset DATA = Synthetic.generate(256, 16, 5);
  static final int BATCH = 128;

  /** Takes the gradients the step hands to Adam, and updates nothing. */
  static final class Recording implements Optim {
    final List<float[]> gradients = new ArrayList<>();

    @Override
    public boolean stepsWithGradients() {
      return true;
    }

    @Override
    public boolean stepWith(List<MemorySegment> g) {
      gradients.clear();
      g.forEach(s -> gradients.add(s.toArray(ValueLayout.JAVA_FLOAT)));
      return true;
    }

    @Override
    public boolean stepWith(List<MemorySegment> g, dev.latentstream.nativelib.SplitWork work) {
      return stepWith(g);
    }

    @Override
    public void zeroGrad() {}

    @Override
    public void step() {
      throw new AssertionError("the hand-written step hands its gradients over");
    }

    @Override
    public void setLearningRate(double lr) {}

    @Override
    public double learningRate() {
      return 0;
    }

    @Override
    public void save(OutputArchive archive) {}

    @Override
    public void load(InputArchive archive) {}

    @Override
    public void close() {}
  }

  @ParameterizedTest(name = "{0} on {1} thread(s)")
  @CsvSource({"LSGEMM, 1", "LSGEMM, 2", "OPENBLAS, 1", "OPENBLAS, 2"})
  void everyGradientMatchesAutogradInDouble(GemmBackend backend, int threads) {
    String unavailable = backend.unavailableReason();
    assertEquals(null, unavailable, backend + " cannot run on this machine: " + unavailable);
    JobConfig job = JobConfigs.parse("{\"model\":\"vae\",\"batchSize\":" + BATCH + "}", "t", "t");
    assertEquals(List.of(400), job.hidden());
    assertEquals(20, job.latent());
    Threads.configure(job, threads);
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(11);
      MlpVae model = new MlpVae(job, 28, 28);
      // A little trained, so ReLUs are mixed and no gradient is trivially zero.
      StepRule warm =
          new StepRule.Standard(
              model,
              Optimizers.create(
                  job.optimizer(), model.parameters(), 1e-3, JobConfig.Engine.LIBTORCH));
      long[] order = new long[BATCH];
      for (int i = 0; i < BATCH; i++) {
        order[i] = i;
      }
      Tensor x =
          TensorData.unitImages(
              DATA.train(), 0, BATCH, new org.bytedeco.pytorch.Device(torch.DeviceType.CPU));
      for (int i = 0; i < 3; i++) {
        warm.step(x, 1.0, 0);
      }
      Recording grads = new Recording();
      MlpVaeStep step = new MlpVaeStep(model, grads, Kernels.training(), BATCH, threads, backend);
      try {
        double beta = 0.7;
        java.util.Map<String, Double> terms = step.step(x, beta, 0);
        Tensor eps = step.noise(BATCH).to(ScalarType.Double);

        // The reference: the model's own maths on a double copy, autograd for the gradients.
        MlpVae reference = new MlpVae(job, 28, 28);
        TensorVector from = model.parameters();
        TensorVector to = reference.parameters();
        for (long i = 0; i < from.size(); i++) {
          to.get(i).detach().copy_(from.get(i));
        }
        reference.to(ScalarType.Double, false);
        Tensor xd = x.to(ScalarType.Double);
        Losses objective = reference.losses(reference.forward(xd, eps), xd, beta, 0);
        objective.total().backward();
        // The loss the native step reported is the model's objective too, term by term.
        for (String term : List.of("recon", "kl", "loss")) {
          double expected = objective.terms().get(term).item_double();
          assertEquals(
              expected,
              terms.get(term),
              1e-5 * Math.abs(expected),
              backend + " on " + threads + " thread(s): the native step's " + term);
        }
        TensorVector refParams = reference.parameters();
        var names = reference.named_parameters();
        assertEquals(refParams.size(), grads.gradients.size());
        for (int i = 0; i < refParams.size(); i++) {
          double[] want = TensorData.doubles(refParams.get(i).grad().contiguous());
          float[] got = grads.gradients.get(i);
          assertEquals(want.length, got.length);
          double diff = 0;
          double norm = 0;
          for (int k = 0; k < want.length; k++) {
            diff += (got[k] - want[k]) * (got[k] - want[k]);
            norm += want[k] * want[k];
          }
          String name = names.get(i).key().getString();
          assertTrue(norm > 0, name + " has a zero reference gradient: the check would be empty");
          double relative = Math.sqrt(diff / norm);
          assertTrue(
              relative < 1e-4,
              backend
                  + " on "
                  + threads
                  + " thread(s): "
                  + name
                  + " is off by "
                  + relative
                  + " relative to autograd in double");
        }
      } finally {
        step.close();
        warm.optimizers().forEach(Optim::close);
      }
    }
  }
}
