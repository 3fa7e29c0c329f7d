package dev.latentstream.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.train.RunSummary;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JobTest {

  static final JobConfig SPEC =
      JobConfigs.parse(
          "{\"model\":\"vae\",\"dataset\":\"synthetic\",\"epochs\":2}", "spec", "test");

  static Job job(int num, Job.Status status) {
    return new Job(num, "job-" + num, Path.of("runs", "job-" + num), SPEC, status, -1);
  }

  @Test
  void aJobGoesFromQueuedThroughPausedToCompleted() {
    Job j = job(1, Job.Status.queued);
    j.moveTo(Job.Status.running);
    j.moveTo(Job.Status.paused);
    j.moveTo(Job.Status.running);
    j.finished(new RunSummary(RunSummary.Status.COMPLETED, 2, 100, 0.5, 3.0, null, -90));
    assertEquals(Job.Status.completed, j.status());
    assertEquals(-90, j.iwae);
    assertTrue(!j.active());
  }

  @ParameterizedTest
  @EnumSource(
      value = Job.Status.class,
      names = {"completed", "stopped", "failed"})
  void aFinishedJobNeverMovesAgain(Job.Status end) {
    for (Job.Status to : Job.Status.values()) {
      Job j = job(1, end);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> j.moveTo(to));
      assertTrue(
          e.getMessage().contains("job-1") && e.getMessage().contains(end + " to " + to),
          e.getMessage());
      assertEquals(end, j.status(), "a refused move changes nothing");
    }
  }

  @Test
  void aQueuedJobCannotPauseOrComplete() {
    assertThrows(
        IllegalStateException.class, () -> job(1, Job.Status.queued).moveTo(Job.Status.paused));
    assertThrows(
        IllegalStateException.class, () -> job(1, Job.Status.queued).moveTo(Job.Status.completed));
    assertThrows(
        IllegalStateException.class, () -> job(1, Job.Status.running).moveTo(Job.Status.queued));
    assertThrows(
        IllegalStateException.class, () -> job(1, Job.Status.running).moveTo(Job.Status.running));
  }

  @Test
  void aStopAskedForByTheShutdownStaysInterrupted() {
    Job j = job(1, Job.Status.running);
    j.moveTo(Job.Status.interrupted);
    j.finished(new RunSummary(RunSummary.Status.STOPPED, 0, 40, Double.NaN, Double.NaN, null));
    assertEquals(Job.Status.interrupted, j.status());

    Job k = job(2, Job.Status.running);
    k.finished(new RunSummary(RunSummary.Status.STOPPED, 0, 40, Double.NaN, Double.NaN, null));
    assertEquals(Job.Status.stopped, k.status());

    Job f = job(3, Job.Status.paused);
    f.finished(
        new RunSummary(RunSummary.Status.FAILED, 0, 40, Double.NaN, Double.NaN, "out of memory"));
    assertEquals(Job.Status.failed, f.status());
    assertEquals("out of memory", f.error);
  }
}
