package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.RunIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The runs directory's side of a job's life: a new job's id (one no job and no run directory has
 * yet), its run directory with job.json and identity, written before it is queued so a restarted
 * server finds it, and the removal of a deleted job's files. Threads: the trainer verticle's
 * context (ids are unique only if one thread hands them out).
 */
final class RunDirectories {

  private final Path runsDir;
  private final JobQueue queue;

  RunDirectories(Path runsDir, JobQueue queue) {
    this.runsDir = runsDir;
    this.queue = queue;
  }

  /**
   * The id a new job of {@code spec} numbered {@code num} gets. On a cluster two trainer nodes may
   * start a job of the same name in the same second: the cluster-wide number keeps their ids apart.
   */
  String idFor(JobConfig spec, int num, boolean clustered) {
    return uniqueId(clustered ? spec.name() + "-" + num : spec.name());
  }

  /** {@code name} and the time to the second, with a count after it if that is taken. */
  String uniqueId(String name) {
    String base =
        name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String id = base;
    for (int i = 2; queue.containsId(id) || Files.exists(runsDir.resolve(id)); i++) {
      id = base + "-" + i;
    }
    return id;
  }

  /**
   * A queued job under {@code id}, a member of the sweep {@code sweep} (null: none) trained by
   * {@code node} (null off a cluster), with its run directory written; not yet on the queue.
   */
  Job create(JobConfig spec, int num, String id, String sweep, String node) {
    Job j = new Job(num, id, runsDir.resolve(id), spec, Job.Status.queued, -1);
    j.sweep = sweep;
    j.node = node;
    try {
      Files.createDirectories(j.runDir);
      Files.writeString(j.runDir.resolve("job.json"), JobConfigs.toJson(spec));
    } catch (IOException e) {
      throw new ReplyError(
          ReplyError.INTERNAL, "cannot create the run directory of " + id + ": " + e.getMessage());
    }
    new RunIdentity(id, num, sweep).write(j.runDir);
    return j;
  }

  /** Removes {@code j}'s run directory with everything in it. */
  void delete(Job j) {
    if (Files.exists(j.runDir)) {
      try (Stream<Path> files = Files.walk(j.runDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | UncheckedIOException e) {
        // The reply goes to clients: name the job, not the server's paths (the log has them).
        System.getLogger(RunDirectories.class.getName())
            .log(System.Logger.Level.WARNING, "cannot delete " + j.runDir + ": " + e);
        throw new ReplyError(
            ReplyError.INTERNAL, "cannot delete the files of job " + j.id + "; see the server log");
      }
    }
  }
}
