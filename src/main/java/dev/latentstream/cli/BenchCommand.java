package dev.latentstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Split;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.Threads;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latentstream bench}: each preset trained here and by its Python PyTorch peer ({@code
 * src/bench/python}: the same layout, loss, optimiser, batch size and epochs), on both engines
 * where both apply. Prints seconds per epoch, the ratio (ours / peer), test losses and peak memory
 * on both sides, and the BLAS and thread environment both ran under; {@code --csv} also writes the
 * rows.
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

  /** The peers, extracted together: they import {@code peer_common}. */
  static final List<String> PEERS =
      List.of(
          "peer_common.py",
          "vae_reference.py",
          "conv_vae_reference.py",
          "ae_reference.py",
          "aae_reference.py");

  static final String CSV_HEADER =
      "preset,engine,ours_s_per_epoch,peer_s_per_epoch,ratio,test_loss_ours,test_loss_peer,"
          + "mem_ours_mib,mem_peer_mib";

  static final class Which {
    @Option(
        names = "--job",
        paramLabel = "FILE",
        description = "One job to race (default: config/jobs/vae-fashion.json).")
    Path job;

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

  /** {@code seconds}: training plus the test pass; {@code allSeconds}: everything the epoch did. */
  record Epoch(int epoch, double seconds, double allSeconds, double testLoss) {}

  /**
   * One side of a race: the engine that ran (ours), its epochs, peak memory in MiB and IWAE bound.
   */
  record Side(String engine, List<Epoch> epochs, double peakMib, double iwae) {

    /** The mean s/epoch, leaving out the first epoch (JIT warm-up, imports) when there are more. */
    double secondsPerEpoch() {
      int from = epochs.size() > 1 ? 1 : 0;
      return epochs.subList(from, epochs.size()).stream()
          .mapToDouble(Epoch::seconds)
          .average()
          .orElse(Double.NaN);
    }

    double testLoss() {
      return epochs.isEmpty() ? Double.NaN : epochs.getLast().testLoss();
    }
  }

  /** One row of the table and the CSV: a preset on one of our engines against its peer. */
  record Row(String preset, Side ours, Side peer) {
    double ratio() {
      return peer == null ? Double.NaN : ours.secondsPerEpoch() / peer.secondsPerEpoch();
    }

    String csvLine() {
      return String.join(
          ",",
          preset,
          ours.engine(),
          number(ours.secondsPerEpoch(), 4),
          peer == null ? "" : number(peer.secondsPerEpoch(), 4),
          peer == null ? "" : number(ratio(), 4),
          number(ours.testLoss(), 4),
          peer == null ? "" : number(peer.testLoss(), 4),
          number(ours.peakMib(), 0),
          peer == null ? "" : number(peer.peakMib(), 0));
    }
  }

  @Override
  public Integer call() throws Exception {
    validate();
    List<Row> rows = new ArrayList<>();
    for (Path preset : presets()) {
      rows.addAll(race(preset));
    }
    printTable(rows);
    if (csv != null) {
      writeCsv(csv, rows);
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
    return List.of(which != null && which.job != null ? which.job : Path.of(ALL.getFirst()));
  }

  /** Every engine's row for one preset; the peer runs once for all of them. */
  private List<Row> race(Path presetFile) throws Exception {
    JobConfig config = JobConfigs.load(resolvePreset(presetFile)).withEpochs(epochs);
    if (dataset != null) {
      config = withDataset(config, dataset);
    }
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
    printEnvironment(split);
    List<Row> rows = new ArrayList<>();
    List<Side> ours = new ArrayList<>();
    for (JobConfig.Engine e : engines()) {
      Side side = ours(config.withEngine(e), data);
      if (side != null) {
        ours.add(side);
      }
    }
    Side peer = skipPython ? null : peer(config, split, true);
    if (peer != null && System.getenv("OPENBLAS_CORETYPE") != null) {
      Side own = peer(config, split, false);
      System.out.printf(
          Locale.ROOT,
          "python without OPENBLAS_CORETYPE (OpenBLAS's own kernels): %.3f s/epoch%n",
          own.secondsPerEpoch());
    }
    for (Side side : ours) {
      Row row = new Row(preset, side, peer);
      printComparison(row);
      rows.add(row);
    }
    return rows;
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

  /**
   * Our run of {@code config}; null when its engine cannot run it ({@code native} on a job with no
   * hand-written kernel), which is said.
   */
  private Side ours(JobConfig config, Dataset data) throws IOException {
    resetPeakRss();
    Path runDir = Files.createTempDirectory("latentstream-bench");
    try {
      EpochTimer timer = new EpochTimer();
      Trainer trainer =
          new Trainer(
              config,
              data,
              new Checkpoint(runDir),
              Renderers.best(),
              TrainingListener.compose(new RunDirectoryWriter(runDir), timer),
              false);
      trainer.framesAtEpochEndsOnly();
      RunSummary s = trainer.run();
      if (s.status() != RunSummary.Status.COMPLETED) {
        if (config.engine() == JobConfig.Engine.NATIVE
            && String.valueOf(s.error()).contains("cannot run this job")) {
          System.out.println("latentstream engine native: no row, " + s.error());
          return null;
        }
        throw new UserError("our run did not complete: " + s.error());
      }
      // Read before the peer starts: its process is separate, but a figure taken now is this
      // run's alone.
      return new Side(timer.engine, timer.epochs, peakRssMib(), s.iwae());
    } finally {
      deleteTree(runDir);
    }
  }

  /** Times our epochs on the peer's work: training plus the test pass, printed as they end. */
  private static final class EpochTimer implements TrainingListener {
    final List<Epoch> epochs = new ArrayList<>();
    String engine = "?";
    double lastStepSeconds;

    @Override
    public void onStart(RunStart start) {
      engine = start.engine().wireName();
      System.out.printf("latentstream engine: %s%n", engine);
    }

    @Override
    public void onStep(StepMetrics m) {
      lastStepSeconds = m.elapsedSeconds();
    }

    @Override
    public void onEpoch(EpochResult e) {
      // Epoch-end frames and the checkpoint, which the peer does not do, are reported apart.
      double same = lastStepSeconds + e.testSeconds();
      epochs.add(new Epoch(e.epoch(), same, e.seconds(), e.testLoss()));
      System.out.printf(
          Locale.ROOT,
          "  latentstream epoch %d: %.3f s train+test (test pass %.3f s; %.3f s with frames"
              + " and checkpoint), test loss %.3f%n",
          e.epoch(),
          same,
          e.testSeconds(),
          e.seconds(),
          e.testLoss());
    }
  }

  /**
   * What both sides run under: libtorch's and torch's intra-op threads, OpenBLAS's threads (ours
   * set through its API, the peer's by {@code OPENBLAS_NUM_THREADS}), the one OpenBLAS build (the
   * peer preloads the copy libtorch mapped here: Debian's torch otherwise calls the reference
   * BLAS), and whatever {@code OPENBLAS_*} and {@code OMP_*} the environment already set.
   */
  private void printEnvironment(Threads.Split split) {
    System.out.printf(
        Locale.ROOT,
        "environment, both sides: %d cores, torch threads %d, OpenBLAS threads %d, BLAS %s%n",
        Runtime.getRuntime().availableProcessors(),
        split.torch(),
        split.blas(),
        libtorchOpenBlas().map(Path::toString).orElse("(no OpenBLAS mapped)"));
    environment().forEach((k, v) -> System.out.printf("  %s=%s (from the environment)%n", k, v));
    if (!"PASSIVE".equalsIgnoreCase(System.getenv("OMP_WAIT_POLICY"))) {
      System.out.println(
          "  warning: OMP_WAIT_POLICY is not PASSIVE here; the peer gets PASSIVE, so the race is"
              + " not even (run through ./latentstream)");
    }
  }

  /** The {@code OPENBLAS_*} and {@code OMP_*} variables set in this process, sorted. */
  static Map<String, String> environment() {
    var out = new java.util.TreeMap<String, String>();
    System.getenv()
        .forEach(
            (k, v) -> {
              if (k.startsWith("OPENBLAS_") || k.startsWith("OMP_")) {
                out.put(k, v);
              }
            });
    return out;
  }

  /** The {@code libopenblas.so.0} libtorch mapped into this process, from /proc/self/maps. */
  static java.util.Optional<Path> libtorchOpenBlas() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
      return lines
          .map(line -> line.substring(line.lastIndexOf(' ') + 1))
          .filter(p -> p.endsWith("/libopenblas.so.0"))
          .sorted(Comparator.comparing((String p) -> !p.contains("/pytorch/")))
          .findFirst()
          .map(Path::of);
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  /** The peer's run of {@code config} under {@code split}, with or without OPENBLAS_CORETYPE. */
  private Side peer(JobConfig config, Threads.Split split, boolean keepCoreType)
      throws IOException, InterruptedException {
    Path dir = extractPeers();
    try {
      Path jobFile = dir.resolve("job.json");
      Files.writeString(jobFile, JobConfigs.JSON.writeValueAsString(config));
      ProcessBuilder pb = new ProcessBuilder(peerCommand(config, dir, jobFile, split));
      peerEnvironment(pb.environment(), split, keepCoreType);
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      System.out.printf(
          "python: %s %s, %d epochs%n", python, peerScript(config.model()), config.epochs());
      return readPeer(start(pb), config.iwaeSamples());
    } finally {
      deleteTree(dir);
    }
  }

  /** The peer script for a model type. */
  static String peerScript(JobConfig.ModelType model) {
    return switch (model) {
      case vae -> "vae_reference.py";
      case conv_vae -> "conv_vae_reference.py";
      case ae, dae -> "ae_reference.py";
      case aae -> "aae_reference.py";
    };
  }

  private List<String> peerCommand(JobConfig config, Path dir, Path jobFile, Threads.Split split) {
    List<String> command = new ArrayList<>();
    command.add(python);
    command.add(dir.resolve(peerScript(config.model())).toString());
    command.addAll(
        List.of(
            "--job",
            jobFile.toString(),
            "--data",
            Datasets.locate(config.dataset(), dataDir).toString(),
            "--epochs",
            Integer.toString(config.epochs()),
            "--threads",
            Integer.toString(split.torch())));
    if (limit != null) {
      command.addAll(List.of("--limit", Integer.toString(limit)));
    }
    if (config.model() == JobConfig.ModelType.vae) {
      command.addAll(List.of("--iwae-samples", Integer.toString(config.iwaeSamples())));
    }
    return command;
  }

  /** Our environment as the peer's, with our thread split and our OpenBLAS. */
  private static void peerEnvironment(
      Map<String, String> env, Threads.Split split, boolean keepCoreType) {
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    env.put("OMP_NUM_THREADS", Integer.toString(split.torch()));
    env.put("OPENBLAS_NUM_THREADS", Integer.toString(split.blas()));
    libtorchOpenBlas().ifPresent(p -> env.put("LD_PRELOAD", p.toString()));
    if (!keepCoreType) {
      env.remove("OPENBLAS_CORETYPE");
    }
  }

  private Process start(ProcessBuilder pb) {
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UserError(
          "cannot run "
              + python
              + " (install Debian's python3-torch, or pass --python, or --skip-python): "
              + e.getMessage());
    }
  }

  /** The peers from the jar, into a fresh directory. */
  private static Path extractPeers() throws IOException {
    Path dir = Files.createTempDirectory("latentstream-peers");
    for (String name : PEERS) {
      try (InputStream in = BenchCommand.class.getResourceAsStream("/bench/" + name)) {
        if (in == null) {
          throw new IllegalStateException("bench/" + name + " is missing from the jar");
        }
        Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }

  /** The peer's JSON lines: one per epoch, then its IWAE bound (VAE) and peak memory. */
  private Side readPeer(Process p, int iwaeSamples) throws IOException, InterruptedException {
    List<Epoch> out = new ArrayList<>();
    double peak = Double.NaN;
    double iwae = Double.NaN;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n = JobConfigs.JSON.readTree(line);
        if (n.has("peak_rss_mib")) {
          peak = n.get("peak_rss_mib").asDouble();
        } else if (n.has("iwae")) {
          iwae = n.get("iwae").asDouble();
          System.out.printf(
              Locale.ROOT,
              "  python IWAE bound (K=%d): %.3f in %.1f s%n",
              iwaeSamples,
              iwae,
              n.get("iwae_seconds").asDouble());
        } else {
          out.add(peerEpoch(n));
        }
      }
    }
    int code = p.waitFor();
    if (code != 0) {
      throw new UserError(python + " exited with " + code + " (is python3-torch installed?)");
    }
    return new Side("python", out, peak, iwae);
  }

  private static Epoch peerEpoch(JsonNode n) {
    Epoch e =
        new Epoch(
            n.get("epoch").asInt(),
            n.get("seconds").asDouble(),
            n.get("seconds").asDouble(),
            n.get("test_loss").asDouble());
    System.out.printf(
        Locale.ROOT,
        "  python epoch %d: %.3f s, test loss %.3f%n",
        e.epoch(),
        e.seconds(),
        e.testLoss());
    return e;
  }

  /** One row's comparison, with the goals of issue 19 beside each figure. */
  private static void printComparison(Row row) {
    Side ours = row.ours();
    Side peer = row.peer();
    int from = ours.epochs().size() > 1 ? 2 : 1;
    System.out.printf(
        Locale.ROOT,
        "%nlatentstream (engine %s): %.3f s/epoch (epochs %d-%d), final test loss %.3f%n",
        ours.engine(),
        ours.secondsPerEpoch(),
        from,
        ours.epochs().size(),
        ours.testLoss());
    if (peer != null && !peer.epochs().isEmpty()) {
      printAgainstPeer(row);
    }
    if (!Double.isNaN(ours.iwae())) {
      System.out.printf(
          Locale.ROOT,
          "IWAE bound, log p(x) >= (nats per image): latentstream %.3f, python %s%n",
          ours.iwae(),
          peer == null || Double.isNaN(peer.iwae()) ? "-" : number(peer.iwae(), 3));
    }
    boolean both = peer != null && !Double.isNaN(peer.peakMib()) && !Double.isNaN(ours.peakMib());
    System.out.printf(
        Locale.ROOT,
        "peak memory (MiB, VmHWM of each process): latentstream %.0f, python %s%s%n",
        ours.peakMib(),
        peer == null || Double.isNaN(peer.peakMib()) ? "-" : number(peer.peakMib(), 0),
        both ? ", ratio " + number(ours.peakMib() / peer.peakMib(), 2) + "  (goal <= 1.2)" : "");
  }

  private static void printAgainstPeer(Row row) {
    Side peer = row.peer();
    double goal = row.ours().engine().equals("native") ? 0.4 : 1.0;
    double gap = 100 * (row.ours().testLoss() - peer.testLoss()) / peer.testLoss();
    System.out.printf(
        Locale.ROOT,
        "python:       %.3f s/epoch, final test loss %.3f%n",
        peer.secondsPerEpoch(),
        peer.testLoss());
    System.out.printf(
        Locale.ROOT, "ratio (latentstream / python): %.2f  (goal <= %.1f)%n", row.ratio(), goal);
    System.out.printf(Locale.ROOT, "test loss difference: %+.2f%%  (goal within 1%%)%n", gap);
  }

  private static void printTable(List<Row> rows) {
    System.out.printf(
        "%n%-18s %-9s %10s %10s %6s %21s %15s%n",
        "preset",
        "engine",
        "ours s/ep",
        "peer s/ep",
        "ratio",
        "test loss ours/peer",
        "MiB ours/peer");
    for (Row r : rows) {
      Side p = r.peer();
      System.out.printf(
          Locale.ROOT,
          "%-18s %-9s %10.3f %10s %6s %21s %15s%n",
          r.preset(),
          r.ours().engine(),
          r.ours().secondsPerEpoch(),
          p == null ? "-" : number(p.secondsPerEpoch(), 3),
          p == null ? "-" : number(r.ratio(), 2),
          number(r.ours().testLoss(), 3) + " / " + (p == null ? "-" : number(p.testLoss(), 3)),
          number(r.ours().peakMib(), 0) + " / " + (p == null ? "-" : number(p.peakMib(), 0)));
    }
  }

  static void writeCsv(Path file, List<Row> rows) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(CSV_HEADER);
    rows.forEach(r -> lines.add(r.csvLine()));
    Files.write(file, lines, StandardCharsets.UTF_8);
    System.out.println("rows written to " + file);
  }

  private static String number(double v, int decimals) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /**
   * This process's peak resident set ({@code VmHWM} in /proc/self/status), in MiB; NaN where there
   * is none.
   */
  static double peakRssMib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or an unreadable /proc: the figure is left out
    }
    return Double.NaN;
  }

  /**
   * Resets {@code VmHWM} to the current resident set (Linux: "5" to /proc/self/clear_refs), so each
   * of our runs in one process reports its own peak; where it cannot, the peak is the process's so
   * far (what a lone run reports anyway).
   */
  static void resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException | RuntimeException e) {
      // not Linux: the process's peak stands
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
