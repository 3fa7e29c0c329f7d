package dev.latentstream.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The fourteen GEMMs of one default-job training step (784-400-20 MLP VAE, batch 128, the shapes
 * and transposes of {@code train.MlpVaeStep}), by {@link Gemm} and by the OpenBLAS that libtorch
 * maps (through {@code cblas_sgemm}, as the step calls it without AVX-512F), on 1 and 2 threads.
 * OpenBLAS runs with this environment's settings ({@code OPENBLAS_CORETYPE} included), as it does
 * in the trainer.
 *
 * <p>Run: {@code ./latentstream tool GemmBenchmark} (figures: {@code docs/benchmarks.md}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class GemmBenchmark {

  static final int B = 128, D = 784, H = 400, L = 20;

  @Param({"1", "2"})
  int threads;

  Arena arena;
  MemorySegment x, w1, h1, wMu, mu, w3, z, h3, w4, logits, gW4, gH3, gW3, gZ, gWMu, gH1, gW1;
  Gemm gemm;

  @Setup(Level.Trial)
  public void setUp() throws Throwable {
    dev.latentstream.model.Libtorch.load();
    Random r = new Random(5);
    arena = Arena.ofShared();
    x = floats(r, B * D);
    w1 = floats(r, H * D);
    h1 = floats(r, B * H);
    wMu = floats(r, L * H);
    mu = floats(r, B * L);
    w3 = floats(r, H * L);
    z = floats(r, B * L);
    h3 = floats(r, B * H);
    w4 = floats(r, D * H);
    logits = floats(r, B * D);
    gW4 = floats(r, D * H);
    gH3 = floats(r, B * H);
    gW3 = floats(r, H * L);
    gZ = floats(r, B * L);
    gWMu = floats(r, L * H);
    gH1 = floats(r, B * H);
    gW1 = floats(r, H * D);
    gemm = Gemm.available().orElse(null);
    if (gemm != null) {
      gemm.setThreads(threads);
    }
    OpenBlas.setThreads(threads);
  }

  private MemorySegment floats(Random r, int n) {
    float[] v = new float[n];
    for (int k = 0; k < n; k++) {
      v[k] = r.nextFloat() - 0.5f;
    }
    return arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  /**
   * Forward and backward in the step's order (the μ and log σ² heads share shapes, so each runs
   * twice).
   */
  private void step(GemmBackend g) {
    g.sgemm(false, true, B, H, D, x, D, w1, D, 0, h1, H);
    g.sgemm(false, true, B, L, H, h1, H, wMu, H, 0, mu, L);
    g.sgemm(false, true, B, L, H, h1, H, wMu, H, 0, mu, L);
    g.sgemm(false, true, B, H, L, z, L, w3, L, 0, h3, H);
    g.sgemm(false, true, B, D, H, h3, H, w4, H, 0, logits, D);
    g.sgemm(true, false, D, H, B, logits, D, h3, H, 0, gW4, H);
    g.sgemm(false, false, B, H, D, logits, D, w4, H, 0, gH3, H);
    g.sgemm(true, false, H, L, B, gH3, H, z, L, 0, gW3, L);
    g.sgemm(false, false, B, L, H, gH3, H, w3, L, 0, gZ, L);
    g.sgemm(true, false, L, H, B, mu, L, h1, H, 0, gWMu, H);
    g.sgemm(true, false, L, H, B, mu, L, h1, H, 0, gWMu, H);
    g.sgemm(false, false, B, H, L, mu, L, wMu, H, 0, gH1, H);
    g.sgemm(false, false, B, H, L, mu, L, wMu, H, 1, gH1, H);
    g.sgemm(true, false, H, D, B, gH1, H, x, D, 0, gW1, D);
  }

  @Benchmark
  public void stepGemmsLsgemm() {
    if (gemm == null) {
      throw new IllegalStateException("this CPU has no AVX-512F: lsgemm does not run here");
    }
    step(GemmBackend.LSGEMM);
  }

  /** Through {@code cblas_sgemm}, as the step calls it without AVX-512F. */
  @Benchmark
  public void stepGemmsOpenBlas() {
    step(GemmBackend.OPENBLAS);
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(GemmBenchmark.class.getSimpleName()).build()).run();
  }
}
