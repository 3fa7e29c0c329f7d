package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ThreadsTest {

  @Test
  void settingOpenBlasThreadsReachesEveryMappedCopyOfOpenBlas() {
    List<Integer> before = Threads.blasThreads();
    assertFalse(before.isEmpty(), "no OpenBLAS is mapped after libtorch loaded");
    try {
      assertTrue(Threads.setBlasThreads(1));
      // libtorch's GEMMs run in whichever copy the loader bound first (the nolapack one here): all
      // must follow.
      Threads.blasThreads()
          .forEach(n -> assertEquals(1, n, "a copy of OpenBLAS kept its own thread count"));
    } finally {
      Threads.setBlasThreads(before.getFirst());
    }
  }

  @Test
  void aJobWithoutAThreadCountTrainsOnTheCoresItIsGivenAndOneThatSaysKeepsIts() {
    List<Integer> before = Threads.blasThreads();
    try {
      dev.latentstream.config.JobConfig vae =
          dev.latentstream.config.JobConfigs.parse(
              new io.vertx.core.json.JsonObject()
                  .put("model", "vae")
                  .put("dataset", "synthetic")
                  .encode(),
              "t",
              "t");
      assertEquals(new Threads.Split(1, 1), Threads.configure(vae, 1));
      Threads.blasThreads().forEach(n -> assertEquals(1, n));
      assertEquals(new Threads.Split(1, 2), Threads.configure(vae, 2));
      dev.latentstream.config.JobConfig pinned =
          dev.latentstream.config.JobConfigs.parse(
              new io.vertx.core.json.JsonObject()
                  .put("model", "vae")
                  .put("dataset", "synthetic")
                  .put("threads", 1)
                  .encode(),
              "t",
              "t");
      assertEquals(new Threads.Split(1, 1), Threads.configure(pinned, 2));
    } finally {
      Threads.setBlasThreads(before.getFirst());
    }
  }

  static dev.latentstream.config.JobConfig job(String model) {
    return dev.latentstream.config.JobConfigs.parse(
        new io.vertx.core.json.JsonObject()
            .put("model", model)
            .put("dataset", "synthetic")
            .encode(),
        "t",
        "t");
  }

  /**
   * Runs {@code first} on a new thread, then {@code second} on another once the first is done, then
   * {@code after} back on the first thread, and returns what that saw.
   */
  static <T> T onTwoThreads(Runnable first, Runnable second, java.util.function.Supplier<T> after)
      throws Exception {
    var firstDone = new java.util.concurrent.CountDownLatch(1);
    var secondDone = new java.util.concurrent.CountDownLatch(1);
    var seen = new java.util.concurrent.CompletableFuture<T>();
    Thread a =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    first.run();
                    firstDone.countDown();
                    assertTrue(secondDone.await(60, java.util.concurrent.TimeUnit.SECONDS));
                    seen.complete(after.get());
                  } catch (Throwable e) {
                    seen.completeExceptionally(e);
                  }
                });
    assertTrue(firstDone.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first thread");
    Thread b = Thread.ofPlatform().start(second);
    b.join();
    secondDone.countDown();
    a.join();
    return seen.get();
  }

  @Test
  void libtorchsThreadCountSetOnAThreadStaysWhenAnotherThreadSetsItsOwnLater() throws Exception {
    // Fresh threads: neither has run a parallel op yet, when libtorch would give it the count last
    // set on any thread.
    int seen =
        onTwoThreads(
            () -> Threads.setTorchThreads(2),
            () -> Threads.setTorchThreads(1),
            org.bytedeco.pytorch.global.torch::get_num_threads);
    assertEquals(2, seen, "the first thread's own libtorch thread count");
  }

  @Test
  void aJobThatClaimsItsShareSecondLeavesTheFirstJobsGemmThreads() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dev.latentstream.nativelib.Gemm.available().isPresent(), "lsgemm needs AVX-512F");
    var first = new java.util.concurrent.atomic.AtomicReference<Threads.Share>();
    var second = new java.util.concurrent.atomic.AtomicReference<Threads.Share>();
    List<Integer> blasBefore = Threads.blasThreads();
    try {
      int seen =
          onTwoThreads(
              () -> first.set(Threads.claim(job("vae"), 2)),
              () -> second.set(Threads.claim(job("vae"), 1)),
              () -> dev.latentstream.nativelib.Gemm.available().orElseThrow().threads());
      assertEquals(2, seen, "lsgemm threads on the first job's thread");
    } finally {
      if (first.get() != null) {
        first.get().close();
      }
      if (second.get() != null) {
        second.get().close();
      }
      Threads.setBlasThreads(blasBefore.getFirst());
    }
  }

  @Test
  void openBlasRunsOnTheSmallestShareClaimedWhicheverJobClaimedLast() {
    List<Integer> before = Threads.blasThreads();
    try {
      for (boolean vaeFirst : new boolean[] {true, false}) {
        Threads.Share vae = vaeFirst ? Threads.claim(job("vae"), 2) : null;
        Threads.Share conv = Threads.claim(job("conv-vae"), 2);
        if (!vaeFirst) {
          vae = Threads.claim(job("vae"), 2);
        }
        assertEquals(2, vae.split().blas());
        assertEquals(1, conv.split().blas());
        Threads.blasThreads().forEach(n -> assertEquals(1, n, "beside the conv VAE"));
        conv.close();
        Threads.blasThreads().forEach(n -> assertEquals(2, n, "once the conv VAE ended"));
        vae.close();
      }
    } finally {
      Threads.setBlasThreads(before.getFirst());
    }
  }

  /**
   * The hand-written VAE step drops OpenBLAS to one thread around its small products. That count is
   * the process's: it must come back to what the claims set (not the VAE's own two beside a conv
   * VAE that holds it at one), and must not move at all while another job could be in a GEMM.
   */
  @Test
  void aProductOnOneOpenBlasThreadLeavesOpenBlasAsTheRunningJobsClaimedIt() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dev.latentstream.nativelib.OpenBlas.canSetThreads(), "libtorch's openblas_set_num_threads");
    List<Integer> before = Threads.blasThreads();
    List<Threads.Share> open = new java.util.ArrayList<>();
    try {
      open.add(Threads.claim(job("vae"), 2));
      assertEquals(1, smallestDuring(), "alone, the VAE's small product runs on one thread");
      Threads.blasThreads().forEach(n -> assertEquals(2, n, "the VAE alone, after its product"));
      open.add(Threads.claim(job("conv-vae"), 2));
      smallestDuring();
      Threads.blasThreads().forEach(n -> assertEquals(1, n, "beside the conv VAE, after"));
      open.removeLast().close();
      open.add(Threads.claim(job("vae"), 2));
      assertEquals(2, largestDuring(), "beside another VAE its product leaves the count alone");
      Threads.blasThreads().forEach(n -> assertEquals(2, n, "two VAEs, after"));
    } finally {
      open.forEach(Threads.Share::close);
      Threads.setBlasThreads(before.getFirst());
    }
  }

  private static int smallestDuring() {
    int[] seen = new int[1];
    Threads.onOneBlasThread(
        () -> seen[0] = Threads.blasThreads().stream().mapToInt(n -> n).min().orElseThrow());
    return seen[0];
  }

  private static int largestDuring() {
    int[] seen = new int[1];
    Threads.onOneBlasThread(
        () -> seen[0] = Threads.blasThreads().stream().mapToInt(n -> n).max().orElseThrow());
    return seen[0];
  }

  @Test
  void aThreadCanLowerItsOwnPriorityAndNoOtherThreadsOnLinux() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> niceOfLowered =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean lowered =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread t =
        Thread.ofPlatform()
            .start(
                () -> {
                  lowered.set(Threads.lowerPriority(7));
                  niceOfLowered.set(niceOfThisThread());
                });
    t.join();
    assertTrue(lowered.get(), "setpriority for this thread");
    assertEquals(
        "7", niceOfLowered.get(), "the thread's own niceness (field 19 of its /proc stat)");
    assertEquals("0", niceOfThisThread(), "the calling test thread is untouched");
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> Threads.lowerPriority(20));
  }

  /** Field 19 (nice) of /proc/thread-self/stat, after the command name in parentheses. */
  private static String niceOfThisThread() {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return f[16];
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
