package dev.latentstream.jobs;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunIdentity;
import dev.latentstream.runformat.MetricsCsv;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a trainer node finds at start-up in {@code runsDir}: every run a previous server (or a
 * headless {@code train}) left, under the id and number it was given when it was created ({@link
 * RunIdentity}), as it stood: queued jobs queued again in their order, interrupted ones resumed,
 * finished ones with their classes, test loss, progress and result. A run directory that does not
 * read is listed as {@code damaged} with the reason, never fatal. Threads: runs on the trainer
 * verticle's context while it starts (a worker: it reads the disk).
 */
final class Recovery {

  private static final System.Logger LOG = System.getLogger(Recovery.class.getName());

  /**
   * A run directory as found: its identity (num 0 until numbered) and, unless damaged, what it
   * holds.
   */
  record Found(
      Path dir,
      int num,
      JobConfig spec,
      JsonObject status,
      Checkpoint.Progress progress,
      String damage,
      String sweep) {}

  private final Path runsDir;

  Recovery(Path runsDir) {
    this.runsDir = runsDir;
  }

  /** Every run directory (one holding a job.json) in {@code runsDir}, in name order. */
  List<Found> scan() {
    if (!Files.isDirectory(runsDir)) {
      return List.of();
    }
    List<Path> dirs;
    try (Stream<Path> list = Files.list(runsDir)) {
      dirs = list.filter(d -> Files.isRegularFile(d.resolve("job.json"))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list runs in " + runsDir, e);
    }
    List<Found> out = new ArrayList<>();
    Set<Integer> taken = new HashSet<>();
    for (Path d : dirs) {
      Found f = read(d);
      if (f.num() > 0 && !taken.add(f.num())) {
        LOG.log(
            System.Logger.Level.WARNING,
            "run "
                + d
                + " has number "
                + f.num()
                + " as another run does (a copied"
                + " run directory?); it gets a new number on this server");
        f = new Found(f.dir(), 0, f.spec(), f.status(), f.progress(), f.damage(), f.sweep());
      }
      out.add(f);
    }
    return out;
  }

  static Found read(Path d) {
    int num = 0;
    String sweep = null;
    JobConfig spec = null;
    try {
      Optional<RunIdentity> identity = RunIdentity.read(d);
      num = identity.map(RunIdentity::num).orElse(0);
      sweep = identity.map(RunIdentity::sweep).orElse(null);
      spec = JobConfigs.load(d.resolve("job.json"));
      JsonObject status = new JsonObject();
      if (Files.isRegularFile(d.resolve("status.json"))) {
        try {
          status = new JsonObject(Files.readString(d.resolve("status.json")));
        } catch (DecodeException e) {
          throw new IOException("status.json is not JSON");
        }
      }
      Checkpoint.Progress progress = Checkpoint.exists(d) ? Checkpoint.readProgress(d) : null;
      if (Files.isRegularFile(d.resolve(MetricsCsv.FILE))) {
        MetricsCsv.read(
            d.resolve(
                MetricsCsv
                    .FILE)); // throws on a file cut inside its header or rows that are not numbers
      }
      return new Found(d, num, spec, status, progress, null, sweep);
    } catch (IOException | RuntimeException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "run " + d + " is damaged: " + reason);
      return new Found(
          d,
          num,
          spec,
          null,
          null,
          reason.replace(d.toString(), d.getFileName().toString()),
          sweep);
    }
  }

  /** The run as a job numbered {@code num} (its own, or a new one): damaged, or as it stood. */
  static Job job(Found f, int num) {
    if (f.damage() != null) {
      return Job.damaged(num, f.dir(), f.spec(), f.damage());
    }
    JsonObject s = f.status();
    Job.Status st;
    try {
      st = Job.Status.valueOf(s.getString("status", "stopped"));
    } catch (IllegalArgumentException | ClassCastException e) {
      st = Job.Status.stopped;
    }
    // A server that died without a graceful shutdown left these: its trainer is gone. Queued jobs
    // wait again.
    if (st == Job.Status.running || st == Job.Status.paused || st == Job.Status.damaged) {
      st = Job.Status.stopped;
    }
    // A queued job with a checkpoint was queued to resume: it continues from there.
    Checkpoint.Progress from = st == Job.Status.queued ? f.progress() : null;
    Job j =
        new Job(
            num,
            f.dir().getFileName().toString(),
            f.dir(),
            from != null ? from.job() : f.spec(),
            st,
            from != null ? from.step() : -1);
    j.sweep = f.sweep();
    j.error = s.getValue("error") instanceof String e ? e : null;
    j.step = s.getValue("step") instanceof Number n ? n.longValue() : 0;
    j.epoch = s.getValue("epoch") instanceof Number n ? n.intValue() : 0;
    j.batchesPerEpoch = s.getValue("batchesPerEpoch") instanceof Number n ? n.intValue() : 0;
    j.testLoss = s.getValue("testLoss") instanceof Number n ? n.doubleValue() : Double.NaN;
    j.iwae = s.getValue("iwae") instanceof Number n ? n.doubleValue() : resultIwae(f.dir());
    j.device = s.getValue("device") instanceof String dev ? dev : "";
    j.engine = s.getValue("engine") instanceof String eng ? eng : "";
    j.classes =
        s.getValue("classes") instanceof io.vertx.core.json.JsonArray a
            ? a.stream().map(String::valueOf).toList()
            : List.of();
    j.queuedAtMillis = s.getValue("queuedAt") instanceof Number n ? n.longValue() : 0;
    j.failovers = s.getValue("failovers") instanceof Number n ? n.intValue() : 0;
    j.node = s.getValue("node") instanceof String node ? node : null;
    if (f.progress() != null) {
      // The checkpoint is where a resume continues: the progress shown is the run's.
      j.step = Math.max(j.step, f.progress().step());
      j.epoch = Math.max(j.epoch, f.progress().epoch());
    }
    return j;
  }

  /** The IWAE bound job.json's {@code result} holds once a VAE run completed, else NaN. */
  private static double resultIwae(Path dir) {
    try {
      JsonObject job = new JsonObject(Files.readString(dir.resolve("job.json")));
      return job.getJsonObject("result", new JsonObject()).getValue("iwae") instanceof Number n
          ? n.doubleValue()
          : Double.NaN;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** Orders queued jobs as they queued: by the time they first queued, then by number. */
  static final Comparator<Job> QUEUE_ORDER =
      Comparator.<Job>comparingLong(j -> j.queuedAtMillis).thenComparingInt(j -> j.num);

  /**
   * Puts the recovered jobs on {@code queue}: every job listed, interrupted ones resumed first
   * (when {@code resume}: from their checkpoint, else from the start), then the queued ones in
   * their order.
   */
  void restore(
      List<Job> found, JobQueue queue, JobControl control, JobEvents events, boolean resume) {
    List<Job> waiting = new ArrayList<>();
    for (Job j : found) {
      if (j.is(Job.Status.queued)) {
        waiting.add(j);
      } else {
        queue.list(j);
      }
    }
    if (resume) {
      resumeInterrupted(queue, control, events);
    }
    waiting.sort(QUEUE_ORDER);
    for (Job j : waiting) {
      queue.enqueue(j);
      events.status(j);
    }
    control.schedule();
  }

  /**
   * Queues again every job a graceful shutdown interrupted: from its checkpoint, else from the
   * start.
   */
  private static void resumeInterrupted(JobQueue queue, JobControl control, JobEvents events) {
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
