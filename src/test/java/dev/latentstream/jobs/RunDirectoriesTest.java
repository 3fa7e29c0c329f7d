package dev.latentstream.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.RunIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoriesTest {

  @TempDir Path runs;

  @Test
  void aNewJobsRunDirectoryHoldsItsSpecAndIdentityBeforeItIsQueued() throws Exception {
    JobQueue queue = new JobQueue(1, 8);
    RunDirectories dirs = new RunDirectories(runs, queue);
    String id = dirs.idFor(JobTest.SPEC, 7, true);
    Job j = dirs.create(JobTest.SPEC, 7, id, "grid-sweep", "node-a");

    assertTrue(id.startsWith(JobTest.SPEC.name() + "-7-"), id);
    assertEquals(runs.resolve(id), j.runDir);
    assertTrue(j.is(Job.Status.queued));
    assertEquals("grid-sweep", j.sweep);
    assertEquals("node-a", j.node);
    assertEquals(JobTest.SPEC, JobConfigs.load(j.runDir.resolve("job.json")));
    assertEquals(new RunIdentity(id, 7, "grid-sweep"), RunIdentity.read(j.runDir).orElseThrow());
    assertTrue(queue.all().isEmpty(), "the caller queues it");
  }

  @Test
  void anIdTakenByARunDirectoryOrAQueuedJobIsNotGivenAgain() throws Exception {
    JobQueue queue = new JobQueue(1, 8);
    RunDirectories dirs = new RunDirectories(runs, queue);
    String first = dirs.uniqueId("demo");
    Files.createDirectories(runs.resolve(first));
    String second = dirs.uniqueId("demo");
    queue.enqueue(new Job(2, second, runs.resolve(second), JobTest.SPEC, Job.Status.queued, -1));
    String third = dirs.uniqueId("demo");

    // The three may straddle a second; within one they count on from the first.
    assertNotEquals(first, second);
    assertNotEquals(second, third);
    assertNotEquals(first, third);
    if (second.startsWith(first)) {
      assertEquals(first + "-2", second);
    }
    if (third.startsWith(first)) {
      assertEquals(first + "-3", third);
    }
  }

  @Test
  void deletingAJobRemovesItsWholeRunDirectory() throws Exception {
    RunDirectories dirs = new RunDirectories(runs, new JobQueue(1, 8));
    Job j = dirs.create(JobTest.SPEC, 1, "demo", null, null);
    Files.createDirectories(j.runDir.resolve("epochs"));
    Files.writeString(j.runDir.resolve("epochs").resolve("1.png"), "x");

    dirs.delete(j);

    assertFalse(Files.exists(j.runDir));
    dirs.delete(j); // a run whose files are gone already deletes without complaint
  }
}
