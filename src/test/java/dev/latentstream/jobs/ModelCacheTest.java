package dev.latentstream.jobs;

import static dev.latentstream.jobs.JobTest.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ModelCacheTest {

  /** A stand-in for a brought-back model: it knows whether it is still open. */
  static final class Model implements AutoCloseable {
    final Job job;
    boolean closed;

    Model(Job job) {
      this.job = job;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  final List<Model> made = new ArrayList<>();

  ModelCache<Model> cache(int models, long bytes, Map<Integer, Long> sizes) {
    return new ModelCache<>(
        models,
        bytes,
        j -> {
          Model m = new Model(j);
          made.add(m);
          return m;
        },
        j -> sizes.getOrDefault(j.num, 100L));
  }

  @Test
  void aStreamOfRequestsOverMoreRunsThanFitStaysWithinTheCountAndEvictedRunsComeBack() {
    int n = 3;
    ModelCache<Model> c = cache(n, Long.MAX_VALUE, Map.of());
    List<Job> runs = new ArrayList<>();
    for (int i = 1; i <= n + 2; i++) {
      runs.add(job(i, Job.Status.completed));
    }
    Random random = new Random(7);
    for (int i = 0; i < 500; i++) {
      Job j = runs.get(random.nextInt(runs.size()));
      Model m = c.get(j);
      assertSame(j, m.job);
      assertTrue(!m.closed, "a model handed out is open");
      assertTrue(c.size() <= n, "at most " + n + " models: " + c.ids());
      long open = made.stream().filter(x -> !x.closed).count();
      assertEquals(c.size(), open, "every evicted model was closed");
    }
    assertTrue(c.opened() > n + 2, "evicted runs were brought back again: " + c.opened());
    assertEquals(n + 2L, made.stream().map(m -> m.job.num).distinct().count());
  }

  @Test
  void theLeastRecentlyUsedGoesFirst() {
    ModelCache<Model> c = cache(2, Long.MAX_VALUE, Map.of());
    Job a = job(1, Job.Status.completed);
    Job b = job(2, Job.Status.stopped);
    Job d = job(3, Job.Status.failed);
    Model ma = c.get(a);
    c.get(b);
    assertSame(ma, c.get(a), "a model held is reused");
    c.get(d); // b is the least recently used
    assertEquals(List.of("job-1", "job-3"), c.ids());
    assertEquals(1, made.stream().filter(m -> m.closed).count());
    assertTrue(made.get(1).closed);
  }

  @Test
  void theBytesBoundEvictsUntilTheNewModelFits() {
    ModelCache<Model> c = cache(10, 1000, Map.of(1, 400L, 2, 400L, 3, 500L, 4, 2000L));
    c.get(job(1, Job.Status.completed));
    c.get(job(2, Job.Status.completed));
    assertEquals(800, c.bytes());
    c.get(job(3, Job.Status.completed));
    assertEquals(List.of("job-2", "job-3"), c.ids());
    assertEquals(900, c.bytes());
    ReplyError tooBig = assertThrows(ReplyError.class, () -> c.get(job(4, Job.Status.completed)));
    assertEquals(ReplyError.CONFLICT, tooBig.code);
    assertTrue(tooBig.getMessage().contains("maxJobBytes"), tooBig.getMessage());
    assertEquals(List.of("job-2", "job-3"), c.ids(), "a refused run evicts nothing");
  }

  @Test
  void aRunThatTrainsAgainOrIsDeletedLosesItsModel() {
    ModelCache<Model> c = cache(2, Long.MAX_VALUE, Map.of());
    Model m = c.get(job(1, Job.Status.completed));
    c.evict("job-1");
    assertTrue(m.closed && c.size() == 0 && c.bytes() == 0);
    Model again = c.get(job(1, Job.Status.completed));
    assertTrue(again != m && !again.closed, "a new job object of the run gets a new model");
    c.dropIf(x -> true);
    assertTrue(again.closed && c.size() == 0);
    c.get(job(2, Job.Status.completed));
    c.closeAll();
    assertTrue(made.stream().allMatch(x -> x.closed));
  }

  @Test
  void noModelsMeansExploringIsOff() {
    ReplyError e =
        assertThrows(
            ReplyError.class,
            () -> cache(0, Long.MAX_VALUE, Map.of()).get(job(1, Job.Status.completed)));
    assertTrue(e.getMessage().contains("maxExploredModels"), e.getMessage());
  }
}
