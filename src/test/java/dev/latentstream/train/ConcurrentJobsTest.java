package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.nativelib.Gemm;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two jobs in one process, each on its share of the cores (one, as with {@code maxConcurrentJobs} 2
 * on 2 cores): a VAE and a conv VAE trained at the same time keep their own libtorch thread count
 * (thread-local, set on each trainer thread) and OpenBLAS's (process-wide, the same value for both)
 * at every step, and each trains to the losses it reaches alone.
 */
class ConcurrentJobsTest {

  static final JobConfig VAE =
      JobConfigs.parse(
          "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4,\"batchSize\":32,\"epochs\":2,"
              + "\"frameEverySteps\":0}",
          "vae",
          "vae");
  static final JobConfig CONV =
      JobConfigs.parse(
          "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[4,8],\"dense\":16},\"reduction\":\"mean\","
              + "\"beta\":0.001,\"batchSize\":32,\"epochs\":2,\"frameEverySteps\":0}",
          "conv",
          "conv");

  /**
   * A run's per-step losses and the thread counts its trainer thread saw at each step: libtorch's,
   * OpenBLAS's in every mapped copy, and {@code lsgemm}'s (empty without AVX-512F).
   */
  record Run(
      List<Double> losses,
      Set<Integer> torchThreads,
      Set<List<Integer>> blasThreads,
      Set<Integer> gemmThreads) {}

  /** Trains {@code job} on one core; {@code bothStarted} (may be null) holds its second step. */
  static Run train(JobConfig job, Path dir, CountDownLatch bothStarted) {
    return train(job, dir, bothStarted, () -> {});
  }

  /** As {@link #train(JobConfig, Path, CountDownLatch)}, running {@code afterStep} after each. */
  static Run train(JobConfig job, Path dir, CountDownLatch bothStarted, Runnable afterStep) {
    return train(job, 1, dir, bothStarted, afterStep);
  }

  /** As {@link #train(JobConfig, Path, CountDownLatch, Runnable)}, on {@code cores} cores. */
  static Run train(
      JobConfig job, int cores, Path dir, CountDownLatch bothStarted, Runnable afterStep) {
    List<Double> losses = new ArrayList<>();
    Set<Integer> torchThreads = new TreeSet<>();
    Set<List<Integer>> blasThreads = new HashSet<>();
    Set<Integer> gemmThreads = new TreeSet<>();
    Trainer t =
        new Trainer(
            job,
            TrainerTest.DATA,
            new Checkpoint(dir),
            Renderers.best(),
            TrainingListener.compose(
                new RunDirectoryWriter(dir),
                new TrainingListener() {
                  @Override
                  public void onStep(StepMetrics m) {
                    losses.add(m.terms().get("loss"));
                    torchThreads.add(torch.get_num_threads());
                    blasThreads.add(Threads.blasThreads());
                    Gemm.available().ifPresent(g -> gemmThreads.add(g.threads()));
                    if (bothStarted != null && losses.size() == 1) {
                      bothStarted.countDown();
                      try {
                        assertTrue(bothStarted.await(60, TimeUnit.SECONDS), "the other job");
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }
                    afterStep.run();
                  }
                }),
            false);
    t.setCores(cores);
    RunSummary s = t.run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    return new Run(losses, torchThreads, blasThreads, gemmThreads);
  }

  /**
   * Unequal shares (issue 19 §5): a VAE given two cores beside a conv VAE given one. Each trainer
   * thread keeps its own counts at every step, libtorch's one and {@code lsgemm}'s two for the VAE
   * (one for the conv VAE), whichever claimed last; OpenBLAS's single process-wide count is the
   * smaller share while both run. Each trains, bit for bit, to the losses it reaches alone on its
   * share: the VAE's step is hand-written ({@code lsgemm}) or libtorch's on one OpenBLAS thread
   * either way, as the conv VAE's.
   */
  @Test
  void aVaeOnTwoCoresAndAConvVaeOnOneAtOnceEachKeepTheirOwnThreadCounts(@TempDir Path dir)
      throws Exception {
    Run vaeAlone = train(VAE, 2, dir.resolve("vae-alone"), null, () -> {});
    Run convAlone = train(CONV, 1, dir.resolve("conv-alone"), null, () -> {});
    CountDownLatch bothStarted = new CountDownLatch(2);
    List<Run> both =
        together(
            () -> train(VAE, 2, dir.resolve("vae"), bothStarted, () -> {}),
            () -> train(CONV, 1, dir.resolve("conv"), bothStarted, () -> {}));
    Run vaeTogether = both.get(0);
    Run convTogether = both.get(1);
    boolean gemm = Gemm.available().isPresent();
    for (Run r : List.of(vaeAlone, vaeTogether)) {
      assertEquals(Set.of(1), r.torchThreads(), "libtorch threads on the VAE's trainer thread");
      assertEquals(gemm ? Set.of(2) : Set.of(), r.gemmThreads(), "the VAE's lsgemm threads");
    }
    for (Run r : List.of(convAlone, convTogether)) {
      assertEquals(Set.of(1), r.torchThreads(), "libtorch threads on the conv VAE's thread");
      assertEquals(gemm ? Set.of(1) : Set.of(), r.gemmThreads(), "the conv VAE's lsgemm threads");
    }
    for (List<Integer> copies : convTogether.blasThreads()) {
      assertTrue(copies.stream().allMatch(n -> n == 1), "OpenBLAS beside the conv VAE: " + copies);
    }
    assertEquals(
        vaeAlone.losses(), vaeTogether.losses(), "the VAE on two cores beside the conv VAE");
    assertEquals(convAlone.losses(), convTogether.losses(), "the conv VAE beside the VAE");
  }

  @Test
  void aVaeAndAConvVaeAtOnceEachKeepTheirOneCore(@TempDir Path dir) throws Exception {
    Run vaeAlone = train(VAE, dir.resolve("vae-alone"), null);
    Run convAlone = train(CONV, dir.resolve("conv-alone"), null);
    // Each waits after its first step until the other has made one: the two runs overlap.
    CountDownLatch bothStarted = new CountDownLatch(2);
    List<Run> both =
        together(
            () -> train(VAE, dir.resolve("vae"), bothStarted),
            () -> train(CONV, dir.resolve("conv"), bothStarted));
    Run vaeTogether = both.get(0);
    Run convTogether = both.get(1);
    for (Run r : List.of(vaeAlone, convAlone, vaeTogether, convTogether)) {
      assertEquals(Set.of(1), r.torchThreads(), "libtorch threads on the trainer thread");
      for (List<Integer> copies : r.blasThreads()) {
        assertTrue(
            copies.stream().allMatch(n -> n == 1), "OpenBLAS threads in every copy: " + copies);
      }
    }
    // Each job draws from a generator of its own, so the other job changes none of its numbers.
    assertEquals(vaeAlone.losses(), vaeTogether.losses(), "the VAE beside the conv VAE");
    assertEquals(convAlone.losses(), convTogether.losses(), "the conv VAE beside the VAE");
  }

  /**
   * Two jobs of one seed trained at once, on a thread each as a server runs them, step for step:
   * after every step each waits for the other, so their draws interleave. Each reaches, bit for
   * bit, the losses one reaches alone. Between them the three models draw every kind of random
   * number a run uses: each epoch's order of images, a VAE's ε (in the hand-written step where it
   * runs, and in the test pass), a denoising autoencoder's corruption and an AAE's prior samples.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4}",
        "{\"model\":\"dae\",\"hidden\":[64],\"latent\":8,\"noise\":{\"kind\":\"mask\",\"level\":0.2}}",
        "{\"model\":\"aae\",\"hidden\":[64],\"latent\":2,\"discriminator\":{\"hidden\":[32],\"lr\":0.0002}}"
      })
  void twoJobsOfOneSeedTrainedAtOnceEachReachTheLossesOfOneTrainedAlone(
      String spec, @TempDir Path dir) throws Exception {
    JobConfig job =
        JobConfigs.parse(
            spec.replaceFirst(
                "\\{", "{\"batchSize\":32,\"epochs\":2,\"frameEverySteps\":0,\"seed\":7,"),
            "t",
            "t");
    List<Double> alone = train(job, dir.resolve("alone"), null).losses();
    CyclicBarrier stepByStep = new CyclicBarrier(2);
    List<Run> both =
        together(
            () -> trainInStep(job, dir.resolve("first"), stepByStep),
            () -> trainInStep(job, dir.resolve("second"), stepByStep));
    assertEquals(alone, both.get(0).losses(), "the first of the two");
    assertEquals(alone, both.get(1).losses(), "the second of the two");
  }

  /**
   * Runs {@code first} and {@code second} at once, on a thread each as TrainerThreads gives each
   * job (the common pool has one thread on 2 cores), and gives their runs in that order.
   */
  private static List<Run> together(Supplier<Run> first, Supplier<Run> second) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      var a = CompletableFuture.supplyAsync(first, pool);
      var b = CompletableFuture.supplyAsync(second, pool);
      return List.of(a.get(5, TimeUnit.MINUTES), b.get(5, TimeUnit.MINUTES));
    } finally {
      pool.shutdownNow();
    }
  }

  /** As {@link #train}, waiting at {@code stepByStep} for the other job after every step. */
  private static Run trainInStep(JobConfig job, Path dir, CyclicBarrier stepByStep) {
    return train(
        job,
        dir,
        null,
        () -> {
          try {
            stepByStep.await(60, TimeUnit.SECONDS);
          } catch (Exception e) {
            throw new IllegalStateException("the other job did not make its step", e);
          }
        });
  }
}
