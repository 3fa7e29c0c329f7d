package dev.latentstream.jobs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The jobs a trainer node knows, in the order it learnt of them, and the queue of those waiting for
 * a slot: at most {@code slots} run (or are paused) at once, and at most {@code queueLimit} wait
 * once the slots are full. Plain Java; it starts nothing itself: {@link #startable()} says which
 * jobs to launch.
 *
 * <p>Threads: owned by the trainer verticle's context; not thread-safe.
 */
final class JobQueue {

  /** The queue is full: the job is refused, not dropped. */
  static final class Full extends RuntimeException {
    Full(int limit) {
      super("the queue is full (" + limit + " jobs waiting)");
    }

    Full(String message) {
      super(message);
    }
  }

  private final int slots;
  private final int queueLimit;
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final ArrayDeque<Job> waiting = new ArrayDeque<>();

  JobQueue(int slots, int queueLimit) {
    if (slots < 1 || queueLimit < 0) {
      throw new IllegalArgumentException(
          "slots must be 1 or more and queueLimit 0 or more, got " + slots + ", " + queueLimit);
    }
    this.slots = slots;
    this.queueLimit = queueLimit;
  }

  /**
   * Whether one more job may queue: while a slot is free it starts at once, else it needs room in
   * the queue.
   *
   * @throws Full if not
   */
  void checkRoom() {
    if (waiting() >= queueLimit && running() >= slots) {
      throw new Full(queueLimit);
    }
  }

  /**
   * Whether {@code n} jobs (a sweep's) may queue together, all or none: those without a free slot
   * need room.
   */
  void checkRoom(int n) {
    long free = Math.max(0, slots - running());
    if (waiting() + n > queueLimit + free) {
      throw new Full(
          "the queue cannot take the sweep's "
              + n
              + " runs ("
              + waiting()
              + " waiting, "
              + free
              + " free slots, queueLimit "
              + queueLimit
              + ")");
    }
  }

  /**
   * Adds a queued job at the back of the queue; a job of the same id (an earlier run of it) is
   * replaced.
   */
  void enqueue(Job j) {
    if (!j.is(Job.Status.queued)) {
      throw new IllegalArgumentException("job " + j.id + " is " + j.status() + ", not queued");
    }
    Job before = jobs.get(j.id);
    if (before != null && before.active()) {
      throw new IllegalStateException("job " + j.id + " is already " + before.status());
    }
    jobs.put(j.id, j);
    waiting.add(j);
  }

  /**
   * Adds a job that does not queue (a run found on disk), or replaces the earlier one of its id.
   */
  void list(Job j) {
    if (j.is(Job.Status.queued)) {
      throw new IllegalArgumentException("a queued job goes through enqueue: " + j.id);
    }
    jobs.put(j.id, j);
  }

  /**
   * Takes a job out of the queue (it was stopped or interrupted before it started); it stays
   * listed.
   */
  void unqueue(Job j) {
    waiting.remove(j);
  }

  /** Forgets a job that is not active (deleted). */
  void remove(Job j) {
    if (j.active()) {
      throw new IllegalStateException("job " + j.id + " is " + j.status());
    }
    waiting.remove(j);
    jobs.remove(j.id, j);
  }

  /**
   * Forgets a job whatever its status: another node of the failover group trains it now (see {@link
   * Leases}).
   */
  void forget(Job j) {
    waiting.remove(j);
    jobs.remove(j.id, j);
  }

  /**
   * Takes from the front of the queue as many jobs as there are free slots; the caller launches
   * them (and moves each to {@code running} before it asks again).
   */
  List<Job> startable() {
    List<Job> out = new ArrayList<>();
    long free = slots - running();
    while (free-- > 0 && !waiting.isEmpty()) {
      out.add(waiting.poll());
    }
    return out;
  }

  /**
   * By id (a string) or number; a string of digits that is no job's id is read as a number (a REST
   * path carries either). Empty if there is no such job.
   */
  Optional<Job> find(Object ref) {
    if (ref instanceof String s) {
      Job j = jobs.get(s);
      return j != null || !s.matches("[0-9]{1,9}")
          ? Optional.ofNullable(j)
          : find(Integer.parseInt(s));
    }
    if (ref instanceof Number n) {
      return jobs.values().stream().filter(x -> x.num == n.intValue()).findFirst();
    }
    return Optional.empty();
  }

  boolean containsId(String id) {
    return jobs.containsKey(id);
  }

  /** Every job, in the order they became known. */
  Collection<Job> all() {
    return Collections.unmodifiableCollection(jobs.values());
  }

  /** The queued jobs, front first. */
  List<Job> queued() {
    return List.copyOf(waiting);
  }

  /** Jobs holding a slot: running or paused. */
  long running() {
    return jobs.values().stream()
        .filter(j -> j.is(Job.Status.running) || j.is(Job.Status.paused))
        .count();
  }

  long waiting() {
    return waiting.size();
  }
}
