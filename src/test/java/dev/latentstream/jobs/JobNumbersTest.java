package dev.latentstream.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.RunIdentity;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobNumbersTest {

  @TempDir Path runs;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private void run(String id, int num) throws Exception {
    Path dir = Files.createDirectories(runs.resolve(id));
    Files.writeString(dir.resolve("job.json"), JobConfigs.toJson(JobTest.SPEC));
    if (num > 0) {
      new RunIdentity(id, num).write(dir);
    }
  }

  @Test
  void runsWithoutANumberGetOnesAfterEveryNumberOnDiskAndKeepThem() throws Exception {
    run("a", 0);
    run("b", 5);
    run("c", 0);
    run("d", 2);

    JobNumbers numbers = await(JobNumbers.open(vertx, new Recovery(runs).scan()));

    assertEquals(List.of(6, 5, 7, 2), numbers.found.stream().map(j -> j.num).toList());
    assertEquals(6, RunIdentity.read(runs.resolve("a")).orElseThrow().num());
    assertEquals(7, RunIdentity.read(runs.resolve("c")).orElseThrow().num());
    assertEquals(8, await(numbers.next()));
    assertEquals(9, await(numbers.next()));
  }

  @Test
  void aSecondNodeNumbersAfterTheFirstWithTheSameCounter() throws Exception {
    run("a", 3);
    JobNumbers first = await(JobNumbers.open(vertx, new Recovery(runs).scan()));
    assertEquals(4, await(first.next()));

    // The counter is shared: a node that starts later with fewer runs does not go back.
    JobNumbers second = await(JobNumbers.open(vertx, List.of()));
    assertEquals(5, await(second.next()));
    assertEquals(6, await(first.next()));
  }
}
