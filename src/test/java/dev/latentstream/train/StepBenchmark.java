package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Split;
import dev.latentstream.data.Synthetic;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.Models;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The default job's training cost (config/jobs/vae-fashion.json: the 784-400-20 MLP VAE, batch
 * 128), in ms: one training step by the hand-written {@link MlpVaeStep} and by the libtorch {@link
 * StepRule.Standard} path, and one test pass over 10,000 images (batches of {@link
 * TestScan#EVAL_BATCH}) by the hand-written forward and by the model's libtorch forward. The thread
 * split is the trainer's ({@link Threads#configure}). Images are synthetic strokes: the cost does
 * not depend on what the pixels show.
 *
 * <p>Run: {@code ./latentstream tool StepBenchmark} (figures: {@code docs/benchmarks.md}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class StepBenchmark {

  static final int TEST_IMAGES = 10_000;

  JobConfig job;
  MlpVae handModel;
  MlpVae torchModel;
  StepRule hand;
  StepRule libtorch;
  Tensor train;
  Tensor test;
  int batch;
  int at;

  @Setup(Level.Trial)
  public void setUp() {
    job = JobConfigs.load(Path.of("config/jobs/vae-fashion.json"));
    Threads.Split threads = Threads.configure(job);
    var data = Synthetic.generate(8 * job.batchSize(), TEST_IMAGES, 1);
    Split s = data.train();
    batch = job.batchSize();
    train = TensorData.unitImages(s, s.count());
    Split t = data.test();
    test = TensorData.unitImages(t, t.count());
    torch.manual_seed(job.seed());
    handModel = (MlpVae) Models.create(job, s.rows(), s.cols());
    hand = StepRule.forModel(handModel, threads.blas());
    if (!(hand instanceof MlpVaeStep)) {
      throw new IllegalStateException(
          "the default job did not get the hand-written step (no native kernels or"
              + " no cblas_sgemm?): "
              + hand.getClass().getSimpleName());
    }
    torch.manual_seed(job.seed());
    torchModel = (MlpVae) Models.create(job, s.rows(), s.cols());
    libtorch =
        new StepRule.Standard(
            torchModel, Optimizers.create(job.optimizer(), torchModel.parameters(), job.lr()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    hand.close();
    hand.optimizers().forEach(Optim::close);
    libtorch.optimizers().forEach(Optim::close);
    handModel.close();
    torchModel.close();
    train.close();
    test.close();
  }

  private Tensor nextBatch() {
    at = (at + 1) % (int) (train.size(0) / batch);
    return train.narrow(0, (long) at * batch, batch);
  }

  @Benchmark
  public Map<String, Double> stepHandWritten() {
    try (PointerScope scope = new PointerScope()) {
      return hand.step(nextBatch(), 1.0, 0);
    }
  }

  @Benchmark
  public Map<String, Double> stepLibtorch() {
    try (PointerScope scope = new PointerScope()) {
      return libtorch.step(nextBatch(), 1.0, 0);
    }
  }

  @Benchmark
  public double testPassHandWritten() {
    return testPass(x -> hand.test(x, 1.0, 0).orElseThrow().loss());
  }

  @Benchmark
  public double testPassLibtorch() {
    return testPass(
        x -> {
          Losses losses = handModel.losses(x, x, 1.0, 0);
          // what the trainer's pass also reads back for the diagnostics
          TensorData.floats(losses.codes());
          TensorData.floats(losses.logVar());
          return losses.total().item_double();
        });
  }

  /**
   * The summed loss of {@code meanLoss} over the test images in the trainer's batches, each batch's
   * tensors freed with it.
   */
  private double testPass(ToDoubleFunction<Tensor> meanLoss) {
    double sum = 0;
    try (NoGradGuard noGrad = new NoGradGuard();
        PointerScope scope = new PointerScope()) {
      for (int from = 0; from < TEST_IMAGES; from += TestScan.EVAL_BATCH) {
        int size = Math.min(TestScan.EVAL_BATCH, TEST_IMAGES - from);
        try (PointerScope batchScope = new PointerScope()) {
          sum += meanLoss.applyAsDouble(test.narrow(0, from, size)) * size;
        }
      }
    }
    return sum;
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(StepBenchmark.class.getSimpleName()).build()).run();
  }
}
