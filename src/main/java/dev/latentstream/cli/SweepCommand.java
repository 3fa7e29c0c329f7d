package dev.latentstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.Install;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.Sweep;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.SweepReport;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latentstream sweep}: the members of a grid trained headless in turn, each into its own run
 * directory under {@code --out}, then {@code sweep.csv}, {@code compare-loss.png} and {@code
 * compare-samples.png} there. {@code sweep.json} in {@code --out} records the grid and the members
 * finished, so {@code --resume} trains no member twice: finished ones are skipped, an interrupted
 * one continues from its checkpoint.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = "Train every member of a grid of job settings headless, then compare them.")
public final class SweepCommand implements Callable<Integer> {

  static final String STATE = "sweep.json";

  @Option(
      names = "--job",
      paramLabel = "FILE",
      description = "Base job spec (JSON); may hold a \"sweep\" grid itself.")
  Path job;

  @Option(
      names = "--set",
      paramLabel = "KEY=V1,V2",
      description = "A swept key and its values, e.g. beta=0.5,1,2,4. Repeatable.")
  List<String> sets = new ArrayList<>();

  @Option(
      names = "--epochs",
      paramLabel = "N",
      description = "Override every member's epoch count.")
  Integer epochs;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      required = true,
      description = "The sweep's directory.")
  Path out;

  @Option(
      names = "--resume",
      description = "Continue the sweep in --out: finished members are not trained again.")
  boolean resume;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Look for datasets here first.")
  Path dataDir;

  private volatile boolean stopRequested;
  private volatile Trainer current;

  /**
   * Stops after the current step of the member training now, and trains no further member (Ctrl-C
   * does this).
   */
  public void requestStop() {
    stopRequested = true;
    Trainer t = current;
    if (t != null) {
      t.stop();
    }
  }

  @Override
  public Integer call() throws IOException {
    ObjectNode state = resume ? readState() : newState();
    Sweep sweep =
        Sweep.expand(
            (ObjectNode) state.get("base"),
            state.get("grid"),
            String.valueOf(job == null ? out.resolve(STATE) : job),
            state.path("defaultName").asText("sweep"));
    List<String> keys = List.copyOf(sweep.grid().keySet());
    ObjectNode done = (ObjectNode) state.get("done");
    System.out.printf(
        "sweep of %d runs over %s in %s%n", sweep.members().size(), String.join(", ", keys), out);

    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = stopHook(finished);
    Runtime.getRuntime().addShutdownHook(hook);
    boolean stopped;
    try {
      stopped = trainAll(sweep, keys, state);
      report(sweep, keys, done);
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it waits for us
      }
    }
    System.out.printf(
        "%s: %d of %d members finished; see %s%n",
        stopped ? "stopped" : "done",
        count(done),
        sweep.members().size(),
        out.resolve(SweepReport.CSV));
    return stopped ? 130 : 0;
  }

  /** On a signal: stop, then give the sweep up to a minute to checkpoint and record its state. */
  private Thread stopHook(CountDownLatch finished) {
    return new Thread(
        () -> {
          requestStop();
          try {
            finished.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        "latentstream-sweep-stop");
  }

  /** Trains every member not finished yet, in turn; true when stopped before the last. */
  private boolean trainAll(Sweep sweep, List<String> keys, ObjectNode state) throws IOException {
    ObjectNode done = (ObjectNode) state.get("done");
    FrameRenderer renderer = Renderers.best();
    for (Sweep.Member m : sweep.members()) {
      String name = m.spec().name();
      if (done.has(name)) {
        System.out.printf("%s: finished before, not trained again%n", name);
        continue;
      }
      if (stopRequested) {
        return true;
      }
      RunSummary.Status status = train(m, state, renderer);
      if (status == RunSummary.Status.STOPPED) {
        return true;
      }
      if (status == RunSummary.Status.COMPLETED) {
        report(sweep, keys, done);
      }
    }
    return false;
  }

  /** Trains one member into its run directory, records how it ended, and returns that. */
  private RunSummary.Status train(Sweep.Member m, ObjectNode state, FrameRenderer renderer) {
    String name = m.spec().name();
    JobConfig spec = epochs != null ? m.spec().withEpochs(epochs) : m.spec();
    Path runDir = out.resolve(name);
    boolean again = Checkpoint.exists(runDir);
    System.out.printf(
        "%s (%s)%s%n", name, m.label(), again ? ": continuing from its checkpoint" : "");
    Dataset data = Datasets.load(spec.dataset(), dataDir);
    int[] activeUnits = {-1};
    TrainingListener units =
        new TrainingListener() {
          @Override
          public void onDiagnostics(Diagnostics d) {
            activeUnits[0] = d.activeUnits();
          }
        };
    Trainer trainer = HeadlessRun.trainer(spec, data, runDir, renderer, again, units);
    current = trainer;
    if (stopRequested) {
      trainer.stop();
    }
    long t0 = System.nanoTime();
    RunSummary summary = trainer.run();
    current = null;
    double seconds = (System.nanoTime() - t0) / 1e9 + state.path("_seconds").path(name).asDouble(0);
    record(m, state, summary, activeUnits[0], seconds);
    return summary.status();
  }

  /** How a member ended, in the sweep's state on disk. */
  private void record(
      Sweep.Member m, ObjectNode state, RunSummary summary, int activeUnits, double seconds) {
    String name = m.spec().name();
    ObjectNode done = (ObjectNode) state.get("done");
    switch (summary.status()) {
      case COMPLETED -> {
        done.set(name, row(m, "completed", summary, activeUnits, seconds));
        writeState(state);
        System.out.printf(Locale.ROOT, "%s: test loss %.3f%n", name, summary.testLoss());
      }
      case FAILED -> {
        // Its checkpoint stays; --resume continues it. Seconds so far carry over.
        state.with("_seconds").put(name, seconds);
        writeState(state);
        System.err.printf("latentstream: %s failed: %s%n", name, summary.error());
        done.set(name, row(m, "failed", summary, -1, seconds));
        writeState(state);
      }
      case STOPPED -> {
        state.with("_seconds").put(name, seconds);
        writeState(state);
        System.out.printf("%s: stopped at step %d; --resume continues it%n", name, summary.steps());
      }
    }
  }

  private static int count(ObjectNode done) {
    int n = 0;
    for (var it = done.fieldNames(); it.hasNext(); ) {
      n += it.next().startsWith("_") ? 0 : 1;
    }
    return n;
  }

  private ObjectNode row(
      Sweep.Member m, String status, RunSummary s, int activeUnits, double seconds) {
    ObjectNode r =
        JobConfigs.JSON
            .createObjectNode()
            .put("status", status)
            .put("testLoss", s.testLoss())
            .put("iwae", s.iwae())
            .put("activeUnits", activeUnits)
            .put("seconds", seconds);
    ObjectNode values = r.putObject("values");
    m.values().forEach(values::set);
    return r;
  }

  private void report(Sweep sweep, List<String> keys, ObjectNode done) throws IOException {
    List<SweepReport.Row> rows = new ArrayList<>();
    for (Sweep.Member m : sweep.members()) {
      JsonNode r = done.get(m.spec().name());
      if (r == null) {
        continue;
      }
      List<String> values =
          keys.stream()
              .map(
                  k -> {
                    JsonNode v = m.values().get(k);
                    return v.isTextual() ? v.asText() : v.toString();
                  })
              .toList();
      rows.add(
          new SweepReport.Row(
              m.spec().name(),
              values,
              r.path("status").asText(),
              r.path("testLoss").asDouble(Double.NaN),
              r.path("iwae").asDouble(Double.NaN),
              r.path("activeUnits").asInt(-1),
              r.path("seconds").asDouble(Double.NaN),
              out.resolve(m.spec().name())));
    }
    SweepReport.writeCsv(out, keys, rows);
    SweepReport.writeLossPlot(out, rows);
    SweepReport.writeSamples(out, rows);
  }

  /** The grid from --job (its "sweep") and every --set, the base spec, and no member done yet. */
  private ObjectNode newState() throws IOException {
    if (Files.exists(out.resolve(STATE))) {
      throw new UserError(
          out + " already holds a sweep; --resume continues it, or choose another --out");
    }
    ObjectNode state = buildState();
    Files.createDirectories(out);
    writeState(state);
    return state;
  }

  private ObjectNode buildState() throws IOException {
    if (job == null) {
      throw new UserError(
          "--job FILE is required (for example --job config/jobs/vae-fashion.json)");
    }
    Path file = Install.resolve(job);
    if (!(JobConfigs.readJobFile(file) instanceof ObjectNode base)) {
      throw new UserError(file + ": a job spec must be a JSON object");
    }
    JsonNode fileGrid = base.remove(Sweep.KEY);
    ObjectNode grid =
        fileGrid instanceof ObjectNode g ? g.deepCopy() : JobConfigs.JSON.createObjectNode();
    if (fileGrid != null && !fileGrid.isObject()) {
      throw new UserError(file + ": \"sweep\" must be an object of key: [values]");
    }
    for (String s : sets) {
      try {
        var e = Sweep.parseSet(s);
        grid.set(e.getKey(), e.getValue());
      } catch (ConfigException e) {
        throw new UserError(e.getMessage());
      }
    }
    if (grid.isEmpty()) {
      throw new UserError(
          "nothing to sweep: give --set KEY=V1,V2 or a \"sweep\" object in " + file);
    }
    ObjectNode state = JobConfigs.JSON.createObjectNode();
    state.set("base", base);
    state.set("grid", grid);
    state.put("defaultName", file.getFileName().toString().replaceFirst("\\.json$", ""));
    state.putObject("done");
    // Checked here, before anything is written: a bad grid names its key.
    Sweep.expand(base, grid, file.toString(), state.get("defaultName").asText());
    return state;
  }

  private ObjectNode readState() throws IOException {
    Path file = out.resolve(STATE);
    if (!Files.isRegularFile(file)) {
      throw new UserError(out + " holds no sweep to resume (no " + file + ")");
    }
    ObjectNode saved;
    try {
      saved = (ObjectNode) JobConfigs.JSON.readTree(Files.readString(file));
    } catch (IOException | ClassCastException e) {
      throw new UserError(file + ": not a sweep record: " + e.getMessage());
    }
    if (job != null || !sets.isEmpty()) {
      // Given again, they must describe the same sweep: resuming never trains another grid into
      // these members.
      ObjectNode given = buildState();
      if (!given.get("base").equals(saved.get("base"))
          || !given.get("grid").equals(saved.get("grid"))) {
        throw new UserError(
            "--job and --set describe another sweep than the one in "
                + file
                + "; resume without them, or choose another --out");
      }
    }
    return saved;
  }

  private void writeState(ObjectNode state) {
    Path file = out.resolve(STATE);
    try {
      Path tmp = file.resolveSibling(STATE + ".tmp");
      Files.writeString(
          tmp, JobConfigs.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
