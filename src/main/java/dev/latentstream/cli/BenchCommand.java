package dev.latentstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code latentstream bench}: our epoch against the same model in Python PyTorch on this machine,
 * side by side. Prints seconds per epoch, the speed ratio (ours / Python) and the test losses.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Train vae-fashion here and in Python PyTorch, side by side; print s/epoch, the ratio and test losses.")
public final class BenchCommand implements Callable<Integer> {

  @Option(
      names = "--job",
      paramLabel = "FILE",
      defaultValue = "config/jobs/vae-fashion.json",
      description =
          "The job to run here (default: ${DEFAULT-VALUE}); Python runs the PyTorch example VAE.")
  Path job;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      defaultValue = "10",
      description = "Epochs on each side (default: ${DEFAULT-VALUE}, the parity setup).")
  int epochs;

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
      description = "libtorch, native or auto: our side's engine (default: the job's).")
  String engine;

  @Option(names = "--skip-python", description = "Only time our side.")
  boolean skipPython;

  /** {@code seconds}: training plus the test pass; {@code allSeconds}: everything the epoch did. */
  record Epoch(int epoch, double seconds, double allSeconds, double testLoss) {}

  @Override
  public Integer call() throws Exception {
    if (epochs < 1) {
      throw new UserError("--epochs must be at least 1");
    }
    JobConfig config = JobConfigs.load(job).withEpochs(epochs);
    if (engine != null) {
      config = config.withEngine(TrainCommand.engine(engine));
    }
    Dataset data = Datasets.load(config.dataset(), dataDir);
    Path runDir = Files.createTempDirectory("latentstream-bench");
    List<Epoch> ours = new ArrayList<>();
    double[] lastStepSeconds = {0};
    String[] ran = {"?"};
    TrainingListener timing =
        new TrainingListener() {
          @Override
          public void onStart(dev.latentstream.train.RunStart start) {
            ran[0] = start.engine().wireName();
            System.out.printf("latentstream engine: %s%n", ran[0]);
          }

          @Override
          public void onStep(StepMetrics m) {
            lastStepSeconds[0] = m.elapsedSeconds();
          }

          @Override
          public void onEpoch(EpochResult e) {
            // Python's epoch is training plus the test pass; ours is compared on the same work.
            // Epoch-end
            // frames and the checkpoint, which Python does not do, are reported apart.
            double same = lastStepSeconds[0] + e.testSeconds();
            ours.add(new Epoch(e.epoch(), same, e.seconds(), e.testLoss()));
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
        };
    System.out.printf(
        "latentstream: %s, %d epochs, frames by %s%n",
        config.name(), epochs, Renderers.best().implementation());
    // Both sides' GEMMs run in OpenBLAS, whose kernels this variable can pin: on the AVX-512 EPYC
    // used here,
    // its Haswell (AVX2) kernels take about 1.7x as long as the ones OpenBLAS picks by itself.
    String coreType = System.getenv("OPENBLAS_CORETYPE");
    if (coreType != null) {
      System.out.printf(
          "OPENBLAS_CORETYPE=%s (set in the environment, applies to both sides)%n", coreType);
    }
    Trainer trainer =
        new Trainer(
            config,
            data,
            new Checkpoint(runDir),
            Renderers.best(),
            TrainingListener.compose(new RunDirectoryWriter(runDir), timing),
            false);
    trainer.framesAtEpochEndsOnly();
    RunSummary s = trainer.run();
    if (s.status() != RunSummary.Status.COMPLETED) {
      throw new UserError("our run did not complete: " + s.error());
    }
    // Read before Python starts: its process is separate, but a figure taken now is this run's
    // alone.
    double ourPeak = peakRssMib();
    double[] theirIwae = {Double.NaN};
    double[] theirPeak = {Double.NaN};
    List<Epoch> theirs =
        skipPython
            ? List.of()
            : python(
                Datasets.locate(config.dataset(), dataDir),
                config.iwaeSamples(),
                theirIwae,
                theirPeak);
    System.out.println();
    System.out.println(
        "epoch  latentstream s  python s   ratio   latentstream test  python test   (s: training + test pass)");
    for (int i = 0; i < ours.size(); i++) {
      Epoch o = ours.get(i);
      Epoch p = i < theirs.size() ? theirs.get(i) : null;
      System.out.printf(
          Locale.ROOT,
          "%5d  %14.3f  %8s  %6s  %17.3f  %11s%n",
          o.epoch(),
          o.seconds(),
          p == null ? "-" : String.format(Locale.ROOT, "%.3f", p.seconds()),
          p == null ? "-" : String.format(Locale.ROOT, "%.2f", o.seconds() / p.seconds()),
          o.testLoss(),
          p == null ? "-" : String.format(Locale.ROOT, "%.3f", p.testLoss()));
    }
    // The first epoch carries JIT warm-up on our side and import/first-touch costs on Python's.
    int from = ours.size() > 1 ? 1 : 0;
    double ourMean =
        ours.subList(from, ours.size()).stream()
            .mapToDouble(Epoch::seconds)
            .average()
            .orElse(Double.NaN);
    System.out.printf(
        Locale.ROOT,
        "%nlatentstream (engine %s): %.3f s/epoch (epochs %d-%d), final test loss %.3f%n",
        ran[0],
        ourMean,
        from + 1,
        ours.size(),
        ours.getLast().testLoss());
    if (!theirs.isEmpty()) {
      double theirMean =
          theirs.subList(Math.min(from, theirs.size() - 1), theirs.size()).stream()
              .mapToDouble(Epoch::seconds)
              .average()
              .orElse(Double.NaN);
      double gap =
          100
              * (ours.getLast().testLoss() - theirs.getLast().testLoss())
              / theirs.getLast().testLoss();
      System.out.printf(
          Locale.ROOT,
          "python:       %.3f s/epoch, final test loss %.3f%n",
          theirMean,
          theirs.getLast().testLoss());
      System.out.printf(
          Locale.ROOT, "ratio (latentstream / python): %.2f  (goal <= 0.6)%n", ourMean / theirMean);
      System.out.printf(Locale.ROOT, "test loss difference: %+.2f%%  (goal within 1%%)%n", gap);
    }
    if (!Double.isNaN(s.iwae())) {
      System.out.printf(
          Locale.ROOT,
          "IWAE bound, K=%d, log p(x) >= (nats per image): latentstream %.3f, python %s%n",
          config.iwaeSamples(),
          s.iwae(),
          Double.isNaN(theirIwae[0]) ? "-" : String.format(Locale.ROOT, "%.3f", theirIwae[0]));
    }
    // Peak resident memory of each whole process (training, test passes, IWAE): goal within 1.2x.
    System.out.printf(
        Locale.ROOT,
        "peak memory (MiB, VmHWM / ru_maxrss): latentstream %.0f, python %s%s%n",
        ourPeak,
        Double.isNaN(theirPeak[0]) ? "-" : String.format(Locale.ROOT, "%.0f", theirPeak[0]),
        Double.isNaN(theirPeak[0]) || Double.isNaN(ourPeak)
            ? ""
            : String.format(Locale.ROOT, ", ratio %.2f  (goal <= 1.2)", ourPeak / theirPeak[0]));
    return 0;
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

  private List<Epoch> python(Path datasetDir, int iwaeSamples, double[] iwae, double[] peakMib)
      throws IOException, InterruptedException {
    Path script = Files.createTempFile("vae_reference", ".py");
    try (InputStream in = BenchCommand.class.getResourceAsStream("/bench/vae_reference.py")) {
      if (in == null) {
        throw new IllegalStateException("bench/vae_reference.py is missing from the jar");
      }
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    ProcessBuilder pb =
        new ProcessBuilder(
            python,
            script.toString(),
            "--data",
            datasetDir.toString(),
            "--epochs",
            Integer.toString(epochs),
            "--iwae-samples",
            Integer.toString(iwaeSamples));
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    System.out.printf("python: %s (PyTorch example VAE), %d epochs%n", python, epochs);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UserError(
          "cannot run "
              + python
              + " (install Debian's python3-torch, or pass --python, or --skip-python): "
              + e.getMessage());
    }
    List<Epoch> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n = JobConfigs.JSON.readTree(line);
        if (n.has("peak_rss_mib")) {
          peakMib[0] = n.get("peak_rss_mib").asDouble();
          continue;
        }
        if (n.has("iwae")) {
          iwae[0] = n.get("iwae").asDouble();
          System.out.printf(
              Locale.ROOT,
              "  python IWAE bound (K=%d): %.3f in %.1f s%n",
              iwaeSamples,
              iwae[0],
              n.get("iwae_seconds").asDouble());
          continue;
        }
        Epoch e =
            new Epoch(
                n.get("epoch").asInt(),
                n.get("seconds").asDouble(),
                n.get("seconds").asDouble(),
                n.get("test_loss").asDouble());
        out.add(e);
        System.out.printf(
            Locale.ROOT,
            "  python epoch %d: %.3f s, test loss %.3f%n",
            e.epoch(),
            e.seconds(),
            e.testLoss());
      }
    }
    int code = p.waitFor();
    Files.deleteIfExists(script);
    if (code != 0) {
      throw new UserError(python + " exited with " + code + " (is python3-torch installed?)");
    }
    return out;
  }
}
