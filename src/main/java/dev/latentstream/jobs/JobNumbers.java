package dev.latentstream.jobs;

import dev.latentstream.rundir.RunIdentity;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Counter;
import java.util.ArrayList;
import java.util.List;

/**
 * Job numbers, from a counter shared by every trainer node of a cluster (Hazelcast's, through
 * Vert.x shared data; a local one otherwise), so two nodes never give out the same number. At
 * start-up it numbers the runs found on disk that have none yet, after every number a run already
 * has. Threads: the trainer verticle's context (the counter's futures complete there).
 */
final class JobNumbers {

  static final String COUNTER = "latentstream.job-numbers";

  private static final System.Logger LOG = System.getLogger(JobNumbers.class.getName());

  private final Counter counter;

  /** The runs found at start-up as jobs, each with its number. */
  final List<Job> found;

  private JobNumbers(Counter counter, List<Job> found) {
    this.counter = counter;
    this.found = found;
  }

  /**
   * The shared counter, raised past the numbers of the runs {@code found} on disk, and those runs
   * as jobs: each under its own number, those without one under a new one (kept in their run
   * directory).
   */
  static Future<JobNumbers> open(Vertx vertx, List<Recovery.Found> found) {
    int highest = found.stream().mapToInt(Recovery.Found::num).max().orElse(0);
    long unnumbered = found.stream().filter(f -> f.num() == 0).count();
    return vertx
        .sharedData()
        .getCounter(COUNTER)
        .compose(
            c ->
                // New numbers come after every number a run on disk already has, and the runs
                // without one get theirs.
                atLeast(c, highest)
                    .compose(v -> c.getAndAdd(unnumbered))
                    .map(first -> new JobNumbers(c, number(found, first.intValue() + 1))));
  }

  /** The next number for a new job. */
  Future<Integer> next() {
    return counter.incrementAndGet().map(Long::intValue);
  }

  /**
   * The runs found as jobs: each under its own number, those without one numbered from {@code
   * next}.
   */
  private static List<Job> number(List<Recovery.Found> found, int next) {
    List<Job> jobs = new ArrayList<>();
    for (Recovery.Found f : found) {
      int num = f.num() > 0 ? f.num() : next++;
      if (f.num() == 0 && f.damage() == null) {
        try {
          new RunIdentity(f.dir().getFileName().toString(), num, f.sweep()).write(f.dir());
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.WARNING,
              "cannot keep the number of run " + f.dir() + ": " + e.getMessage());
        }
      }
      jobs.add(Recovery.job(f, num));
    }
    return jobs;
  }

  /**
   * Raises the shared counter to {@code min} unless it is there already (another node may raise it
   * too).
   */
  private static Future<Void> atLeast(Counter c, long min) {
    return c.get()
        .compose(
            now ->
                now >= min
                    ? Future.succeededFuture()
                    : c.compareAndSet(now, min)
                        .compose(set -> set ? Future.succeededFuture() : atLeast(c, min)));
  }
}
