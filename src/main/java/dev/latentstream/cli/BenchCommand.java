package dev.latentstream.cli;

import dev.latentstream.cli.BenchReport.Row;
import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.train.Threads;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latentstream bench}: each preset trained here and by its Python PyTorch peer ({@code
 * src/bench/python}: the same layout, loss, optimiser, batch size and epochs), on both engines
 * where both apply. Prints seconds per epoch, the ratio (ours / peer), test losses and peak memory
 * on both sides, and the BLAS and thread environment both ran under; {@code --csv} also writes the
 * rows. The command races; {@link BenchOurSide} and {@link BenchPeer} run the two sides, {@link
 * BenchEnvironment} reads what they run under, and {@link BenchReport} prints and writes the rows.
 * With more than one run ({@code --seeds}, rows), each of our runs is in a JVM of its own ({@link
 * BenchChild}), as each peer is, so no run's peak memory holds what an earlier run left. {@code
 * --seeds N} runs each side on the same N seeds and compares the test losses with their spread
 * ({@link LossComparison}).
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Train presets here and in Python PyTorch under the same BLAS and threads; print s/epoch, the"
            + " ratio, test losses and peak memory per preset and engine.")
public final class BenchCommand implements Callable<Integer> {

  /** The presets {@code --all} runs: one per model type. */
  static final List<String> ALL =
      List.of("vae-fashion", "ae-fashion", "dae-fashion", "aae-mnist", "conv-vae-2d-mnist");

  static final class Which {
    @Option(
        names = "--job",
        paramLabel = "FILE",
        description = "A job to race, repeatable (default: config/jobs/vae-fashion.json).")
    List<Path> jobs;

    @Option(
        names = "--all",
        description =
            "Race every preset: vae-fashion, ae-fashion, dae-fashion, aae-mnist, conv-vae-2d-mnist.")
    boolean all;
  }

  @ArgGroup(exclusive = true)
  Which which;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      defaultValue = "10",
      description = "Epochs on each side (default: ${DEFAULT-VALUE}, the parity setup).")
  int epochs;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Train and test on the first N images of each set, on both sides.")
  Integer limit;

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      description = "Train every preset on this dataset instead of its own (both sides).")
  String dataset;

  @Option(
      names = "--python",
      paramLabel = "EXE",
      defaultValue = "/usr/bin/python3",
      description = "Python with torch (default: ${DEFAULT-VALUE}, Debian's python3-torch).")
  String python;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Look for datasets here first.")
  Path dataDir;

  @Option(
      names = "--engine",
      paramLabel = "ENGINE",
      description = "libtorch, native or auto: only this engine (default: libtorch and native).")
  String engine;

  @Option(
      names = "--seeds",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Runs per side, with seeds S, S+1, ... (S: --seed, else the job's seed); rows give the"
              + " means, each side's sample sd and Welch's t-test of the test losses"
              + " (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "The first run's seed on both sides (default: the job's seed).")
  Long seed;

  @Option(
      names = "--csv",
      paramLabel = "FILE",
      description = "Also write the rows to FILE (means over the seeds).")
  Path csv;

  @Option(
      names = "--runs-csv",
      paramLabel = "FILE",
      description = "Also write every run to FILE: preset, side, seed, s/epoch, test loss, MiB.")
  Path runsCsv;

  @Option(names = "--skip-python", description = "Only time our side.")
  boolean skipPython;

  static final String OUR_SIDE_JSON = "--our-side-json";

  /** Set for the child JVM of {@link BenchChild}: our side of one job on one engine, as JSON. */
  @Option(names = OUR_SIDE_JSON, hidden = true, paramLabel = "FILE")
  Path ourSideJson;

  @Override
  public Integer call() throws Exception {
    validate();
    if (ourSideJson != null) {
      JobConfig config = job(presets().getFirst());
      Dataset data = BenchJobs.limited(Datasets.load(config.dataset(), dataDir), limit);
      BenchChild.write(
          ourSideJson, BenchOurSide.run(config.withEngine(engines().getFirst()), data));
      return 0;
    }
    List<Row> rows = new ArrayList<>();
    boolean ownJvms = presets().size() * engines().size() * seeds > 1;
    for (Path preset : presets()) {
      rows.addAll(race(preset, ownJvms));
    }
    BenchReport.printTable(rows);
    if (csv != null) {
      BenchReport.writeCsv(csv, rows);
    }
    if (runsCsv != null) {
      BenchReport.writeRunsCsv(runsCsv, rows);
    }
    return 0;
  }

  private void validate() {
    if (epochs < 1) {
      throw new UserError("--epochs must be at least 1");
    }
    if (limit != null && limit < 1) {
      throw new UserError("--limit must be at least 1, got " + limit);
    }
    if (seeds < 1) {
      throw new UserError("--seeds must be at least 1, got " + seeds);
    }
  }

  private List<Path> presets() {
    if (which != null && which.all) {
      return ALL.stream().map(name -> Path.of("config/jobs", name + ".json")).toList();
    }
    return which != null && which.jobs != null ? which.jobs : List.of(Path.of(ALL.getFirst()));
  }

  /**
   * Every engine's row for one preset over the seeds; the peer runs once per seed for all of them.
   * Each seed runs ours on every engine, then the peer, so a change in the machine's load falls on
   * both sides alike. Our runs are each in a JVM of their own when {@code ownJvms}, else in this
   * one.
   */
  private List<Row> race(Path presetFile, boolean ownJvms) throws Exception {
    JobConfig config = job(presetFile);
    String preset = BenchJobs.presetName(presetFile);
    Dataset data = BenchJobs.limited(Datasets.load(config.dataset(), dataDir), limit);
    Threads.Split split = Threads.split(config, Runtime.getRuntime().availableProcessors());
    System.out.printf(
        Locale.ROOT,
        "%n== %s: %s on %s, %d epochs, %d training and %d test images, %s%n",
        preset,
        config.model().wireName(),
        config.dataset(),
        epochs,
        data.train().count(),
        data.test().count(),
        seeds == 1 ? "seed " + config.seed() : seeds + " seeds from " + config.seed());
    BenchEnvironment.print(split);
    Map<JobConfig.Engine, List<BenchSide>> ours = new LinkedHashMap<>();
    engines().forEach(e -> ours.put(e, new ArrayList<>()));
    List<BenchSide> peers = new ArrayList<>();
    for (int i = 0; i < seeds; i++) {
      JobConfig seeded = BenchJobs.withSeed(config, config.seed() + i);
      for (JobConfig.Engine e : List.copyOf(ours.keySet())) {
        BenchSide side =
            ownJvms
                ? BenchChild.run(this, presetFile, preset, e, seeded.seed())
                : BenchOurSide.run(seeded.withEngine(e), data);
        if (side == null) {
          ours.remove(e); // the engine cannot run this job, whatever the seed
        } else {
          ours.get(e).add(side);
        }
      }
      if (!skipPython) {
        peers.add(new BenchPeer(python, dataDir, limit).race(preset, seeded, split, i == 0));
      }
    }
    BenchRuns peer = peers.isEmpty() ? null : new BenchRuns("python", peers);
    List<Row> rows = new ArrayList<>();
    for (List<BenchSide> runs : ours.values()) {
      BenchRuns mine = new BenchRuns(runs.getFirst().engine(), runs);
      boolean handWrittenVae =
          mine.engine().equals("native") && config.model() == JobConfig.ModelType.vae;
      Row row = new Row(preset, mine, peer, handWrittenVae ? 0.4 : 1.0);
      BenchReport.printComparison(row);
      rows.add(row);
    }
    return rows;
  }

  /** The preset's job with {@code --epochs}, {@code --dataset} and {@code --seed}. */
  private JobConfig job(Path presetFile) {
    JobConfig config = BenchJobs.load(presetFile, epochs, dataset);
    return seed == null ? config : BenchJobs.withSeed(config, seed);
  }

  private List<JobConfig.Engine> engines() {
    if (engine != null) {
      return List.of(TrainCommand.engine(engine));
    }
    return List.of(JobConfig.Engine.LIBTORCH, JobConfig.Engine.NATIVE);
  }
}
