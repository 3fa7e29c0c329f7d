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
