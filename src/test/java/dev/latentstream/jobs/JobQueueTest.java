package dev.latentstream.jobs;

import static dev.latentstream.jobs.JobTest.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JobQueueTest {

  /** Launches what the queue hands out, as the verticle does. */
  static List<Job> launch(JobQueue q) {
    List<Job> started = q.startable();
    started.forEach(j -> j.moveTo(Job.Status.running));
    return started;
  }

  @Test
  void jobsStartInTheOrderTheyQueuedAsSlotsFree() {
    JobQueue q = new JobQueue(2, 8);
    Job a = job(1, Job.Status.queued);
    Job b = job(2, Job.Status.queued);
    Job c = job(3, Job.Status.queued);
    Job d = job(4, Job.Status.queued);
    List.of(a, b, c, d).forEach(q::enqueue);
    assertEquals(List.of(a, b), launch(q));
    assertEquals(List.of(), launch(q), "both slots are taken");
    assertEquals(List.of(c, d), q.queued());
    b.moveTo(Job.Status.completed);
    assertEquals(List.of(c), launch(q));
    a.moveTo(Job.Status.paused);
    assertEquals(List.of(), launch(q), "a paused job keeps its slot");
    assertEquals(
        List.of(a, b, c, d), List.copyOf(q.all()), "every job stays listed in the order it came");
  }

  @Test
  void theQueueLimitCountsOnlyOnceEverySlotIsTaken() {
    JobQueue q = new JobQueue(1, 2);
    q.checkRoom();
    q.enqueue(job(1, Job.Status.queued));
    q.checkRoom(); // a free slot: it would start at once
    launch(q);
    q.enqueue(job(2, Job.Status.queued));
    q.enqueue(job(3, Job.Status.queued));
    JobQueue.Full full = assertThrows(JobQueue.Full.class, q::checkRoom);
    assertTrue(full.getMessage().contains("2 jobs waiting"), full.getMessage());
    q.unqueue(q.find(2).orElseThrow());
    q.checkRoom();
  }

  @Test
  void aJobIsFoundByItsIdOrItsNumber() {
    JobQueue q = new JobQueue(1, 8);
    Job a = job(7, Job.Status.queued);
    q.enqueue(a);
    q.list(job(9, Job.Status.completed));
    assertEquals(a, q.find("job-7").orElseThrow());
    assertEquals(a, q.find(7).orElseThrow());
    assertEquals(9, q.find(9).orElseThrow().num);
    assertTrue(q.find(8).isEmpty() && q.find("job-8").isEmpty() && q.find(null).isEmpty());
    assertEquals(a, q.find("7").orElseThrow(), "a REST path's number");
    assertTrue(q.find("8").isEmpty() && q.find("99999999999").isEmpty());
  }

  @Test
  void anActiveJobCannotBeQueuedTwiceNorRemoved() {
    JobQueue q = new JobQueue(1, 8);
    Job a = job(1, Job.Status.queued);
    q.enqueue(a);
    assertThrows(IllegalStateException.class, () -> q.enqueue(job(1, Job.Status.queued)));
    assertThrows(IllegalStateException.class, () -> q.remove(a));
    assertThrows(IllegalArgumentException.class, () -> q.enqueue(job(2, Job.Status.stopped)));
    assertThrows(IllegalArgumentException.class, () -> q.list(job(3, Job.Status.queued)));
  }

  @Test
  void aResumedRunReplacesItsEarlierJobInPlace() {
    JobQueue q = new JobQueue(1, 8);
    q.list(job(1, Job.Status.stopped));
    q.list(job(2, Job.Status.completed));
    Job again = job(1, Job.Status.queued);
    q.enqueue(again);
    assertEquals(List.of(1, 2), q.all().stream().map(j -> j.num).toList());
    assertEquals(again, q.find(1).orElseThrow());
    assertEquals(List.of(again), launch(q));
  }

  @Test
  void aDeletedJobIsForgotten() {
    JobQueue q = new JobQueue(1, 8);
    Job a = job(1, Job.Status.queued);
    q.enqueue(a);
    a.moveTo(Job.Status.stopped);
    q.unqueue(a);
    q.remove(a);
    assertTrue(q.all().isEmpty() && q.queued().isEmpty() && q.find(1).isEmpty());
  }
}
