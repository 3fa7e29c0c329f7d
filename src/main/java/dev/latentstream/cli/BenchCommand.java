package dev.latentstream.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.cli.BenchReport.Row;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Split;
import dev.latentstream.train.Threads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
 * With more than one row, each of our runs is in a JVM of its own ({@link BenchChild}), as each
 * peer is, so no row's peak memory holds what an earlier row left.
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

  @Option(names = "--csv", paramLabel = "FILE", description = "Also write the rows to FILE.")
  Path csv;

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
      Dataset data = limited(Datasets.load(config.dataset(), dataDir));
      BenchChild.write(
          ourSideJson, BenchOurSide.run(config.withEngine(engines().getFirst()), data));
      return 0;
    }
    List<Row> rows = new ArrayList<>();
    boolean ownJvms = presets().size() * engines().size() > 1;
    for (Path preset : presets()) {
      rows.addAll(race(preset, ownJvms));
    }
    BenchReport.printTable(rows);
    if (csv != null) {
      BenchReport.writeCsv(csv, rows);
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
  }

  private List<Path> presets() {
    if (which != null && which.all) {
      return ALL.stream().map(name -> Path.of("config/jobs", name + ".json")).toList();
    }
    return which != null && which.jobs != null ? which.jobs : List.of(Path.of(ALL.getFirst()));
  }

  /**
   * Every engine's row for one preset; the peer runs once for all of them. Our runs are each in a
   * JVM of their own when {@code ownJvms}, else in this one.
   */
  private List<Row> race(Path presetFile, boolean ownJvms) throws Exception {
    JobConfig config = job(presetFile);
    String preset = presetFile.getFileName().toString().replaceFirst("\\.json$", "");
    Dataset data = limited(Datasets.load(config.dataset(), dataDir));
    Threads.Split split = Threads.split(config, Runtime.getRuntime().availableProcessors());
    System.out.printf(
        Locale.ROOT,
        "%n== %s: %s on %s, %d epochs, %d training and %d test images%n",
        preset,
        config.model().wireName(),
        config.dataset(),
        epochs,
        data.train().count(),
        data.test().count());
    BenchEnvironment.print(split);
    List<BenchSide> ours = new ArrayList<>();
    for (JobConfig.Engine e : engines()) {
      BenchSide side =
          ownJvms
              ? BenchChild.run(this, presetFile, preset, e)
              : BenchOurSide.run(config.withEngine(e), data);
      if (side != null) {
        ours.add(side);
      }
    }
    BenchSide peer = skipPython ? null : peer(config, split);
    List<Row> rows = new ArrayList<>();
    for (BenchSide side : ours) {
      Row row = new Row(preset, side, peer);
      BenchReport.printComparison(row);
      rows.add(row);
    }
    return rows;
  }

  /** The preset's job with {@code --epochs} and {@code --dataset}. */
  private JobConfig job(Path presetFile) {
    JobConfig config = JobConfigs.load(resolvePreset(presetFile)).withEpochs(epochs);
    return dataset == null ? config : withDataset(config, dataset);
  }

  /**
   * The peer's run; with {@code OPENBLAS_CORETYPE} set here, a second run without it is timed too
   * and said (OpenBLAS's own choice of kernels).
   */
  private BenchSide peer(JobConfig config, Threads.Split split)
      throws IOException, InterruptedException {
    BenchPeer peer = new BenchPeer(python, dataDir, limit);
    BenchSide side = peer.run(config, split, true);
    if (System.getenv("OPENBLAS_CORETYPE") != null) {
      BenchSide own = peer.run(config, split, false);
      System.out.printf(
          Locale.ROOT,
          "python without OPENBLAS_CORETYPE (OpenBLAS's own kernels): %.3f s/epoch%n",
          own.secondsPerEpoch());
    }
    return side;
  }

  /** A bare preset name ({@code vae-fashion}) means its file under {@code config/jobs}. */
  private static Path resolvePreset(Path given) {
    if (Files.exists(given) || given.toString().endsWith(".json")) {
      return given;
    }
    return Path.of("config/jobs", given + ".json");
  }

  /** {@code c} on another dataset, through its JSON, so the result is checked as a spec is. */
  private static JobConfig withDataset(JobConfig c, String name) {
    ObjectNode node = JobConfigs.JSON.valueToTree(c);
    node.put("dataset", name);
    return JobConfigs.parse(node.toString(), "--dataset", c.name());
  }

  private List<JobConfig.Engine> engines() {
    if (engine != null) {
      return List.of(TrainCommand.engine(engine));
    }
    return List.of(JobConfig.Engine.LIBTORCH, JobConfig.Engine.NATIVE);
  }

  /** The first {@code --limit} images of each set, or the dataset as it is. */
  private Dataset limited(Dataset d) {
    if (limit == null) {
      return d;
    }
    return new Dataset(d.name(), head(d.train(), limit), head(d.test(), limit), d.classNames());
  }

  private static Split head(Split s, int n) {
    int count = Math.min(n, s.count());
    return new Split(
        Arrays.copyOf(s.pixels(), count * s.imageSize()),
        Arrays.copyOf(s.labels(), count),
        count,
        s.rows(),
        s.cols());
  }
}
