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
      // libtorch's GEMMs run in whichever copy the loader bound first (the nolapack one here): all must follow.
      Threads.blasThreads().forEach(n -> assertEquals(1, n, "a copy of OpenBLAS kept its own thread count"));
    } finally {
      Threads.setBlasThreads(before.getFirst());
    }
  }
}
