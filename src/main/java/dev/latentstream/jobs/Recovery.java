package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.Checkpoint;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a trainer node finds at start-up: the run directories a previous server left in {@code runsDir},
 * listed as jobs to inspect and resume, and the jobs its graceful shutdown interrupted, queued again. A
 * damaged run directory is skipped with a warning, never fatal. Threads: runs on the trainer verticle's
 * context while it starts (a worker: it reads the disk).
 */
final class Recovery {

  private final Path runsDir;

  Recovery(Path runsDir) {
    this.runsDir = runsDir;
  }

  /** The run directories a previous server left behind, in name order. */
  List<Path> pastRuns() {
    if (!Files.isDirectory(runsDir)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(runsDir)) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("job.json"))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list runs in " + runsDir, e);
    }
  }

  /** The runs in {@code past} as jobs, numbered from {@code first}; none is active. */
  List<Job> load(List<Path> past, int first) {
    List<Job> out = new ArrayList<>();
    int num = first;
    for (Path d : past) {
      try {
        out.add(load(d, num++));
      } catch (IOException | RuntimeException e) {
        // a damaged run directory is skipped, never fatal: the rest of the server keeps serving
        System.getLogger(Recovery.class.getName()).log(System.Logger.Level.WARNING,
            "skipping run " + d + ": " + e.getMessage());
      }
    }
    return out;
  }

  private static Job load(Path d, int num) throws IOException {
    JobConfig spec = JobConfigs.load(d.resolve("job.json"));
    Job.Status status = Job.Status.stopped;
    String error = null;
    String engine = "";
    if (Files.isRegularFile(d.resolve("status.json"))) {
      JsonObject s = new JsonObject(Files.readString(d.resolve("status.json")));
      Job.Status st = Job.Status.valueOf(s.getString("status", "stopped"));
      // A server that died without a graceful shutdown left these: its trainer is gone.
      status = st == Job.Status.running || st == Job.Status.paused || st == Job.Status.queued ? Job.Status.stopped : st;
      error = s.getString("error");
      engine = s.getString("engine", "");
    }
    Job j = new Job(num, d.getFileName().toString(), d, spec, status, -1);
    j.error = error;
    j.engine = engine;
    if (Checkpoint.exists(d)) {
      Checkpoint.Progress p = Checkpoint.readProgress(d);
      j.step = p.step();
      j.epoch = p.epoch();
    }
    return j;
  }

  /** Queues again every job a graceful shutdown interrupted: from its checkpoint, else from the start. */
  void resumeInterrupted(JobQueue queue, JobControl control, JobEvents events) {
    for (Job j : List.copyOf(queue.all())) {
      if (!j.is(Job.Status.interrupted)) {
        continue;
      }
      if (Checkpoint.exists(j.runDir)) {
        try {
          control.resume(j);
        } catch (RuntimeException e) {
          events.log(j, "cannot resume " + j.id + ": " + e.getMessage());
        }
      } else {
        control.restart(j);
      }
    }
  }
}
