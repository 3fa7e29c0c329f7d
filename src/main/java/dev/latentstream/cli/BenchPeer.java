package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Datasets;
import dev.latentstream.train.Threads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench}'s other side: the Python PyTorch peer of a job ({@code src/bench/python}, in the
 * jar under {@code bench/}), run as a child process under our thread split and our OpenBLAS, and
 * read back from its JSON lines.
 */
final class BenchPeer {

  /** The peers, extracted together: they import {@code peer_common}. */
  static final List<String> SCRIPTS =
      List.of(
          "peer_common.py",
          "vae_reference.py",
          "conv_vae_reference.py",
          "ae_reference.py",
          "aae_reference.py");

  private final String python;
  private final Path dataDir;
  private final Integer limit;

  /**
   * Peers run by {@code python}, on datasets found first in {@code dataDir} (may be null), on the
   * first {@code limit} images of each set (null: all).
   */
  BenchPeer(String python, Path dataDir, Integer limit) {
    this.python = python;
    this.dataDir = dataDir;
    this.limit = limit;
  }

  /** The peer script for a model type. */
  static String script(JobConfig.ModelType model) {
    return switch (model) {
      case vae -> "vae_reference.py";
      case conv_vae -> "conv_vae_reference.py";
      case ae, dae -> "ae_reference.py";
      case aae -> "aae_reference.py";
    };
  }

  /**
   * The peer's run of {@code config} for {@code preset}; with {@code OPENBLAS_CORETYPE} set here
   * and {@code alsoOwnKernels}, a second run without it is timed too and said (OpenBLAS's own
   * choice of kernels).
   */
  BenchSide race(String preset, JobConfig config, Threads.Split split, boolean alsoOwnKernels)
      throws IOException, InterruptedException {
    BenchSide side = run(preset, config, split, true);
    if (alsoOwnKernels && System.getenv("OPENBLAS_CORETYPE") != null) {
      BenchSide own = run(preset, config, split, false);
      System.out.printf(
          Locale.ROOT,
          "python without OPENBLAS_CORETYPE (OpenBLAS's own kernels): %.3f s/epoch%n",
          own.secondsPerEpoch());
    }
    return side;
  }

  /**
   * The peer's run of {@code config} (its seed passed as {@code --seed}) under {@code split}, with
   * or without OPENBLAS_CORETYPE. Output bench cannot read is a {@link UserError} naming {@code
   * preset} ({@link BenchPeerOutput}).
   */
  BenchSide run(String preset, JobConfig config, Threads.Split split, boolean keepCoreType)
      throws IOException, InterruptedException {
    try (TempTree dir = extract()) {
      Path jobFile = dir.dir().resolve("job.json");
      Files.writeString(jobFile, JobConfigs.JSON.writeValueAsString(config));
      ProcessBuilder pb = new ProcessBuilder(command(config, dir.dir(), jobFile, split));
      environment(pb.environment(), split, keepCoreType);
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      // The run at OpenBLAS's own kernels says so, so that "python:" lines are the measured runs.
      System.out.printf(
          "%s %s %s, %d epochs, seed %d%n",
          keepCoreType ? "python:" : "python without OPENBLAS_CORETYPE:",
          python,
          script(config.model()),
          config.epochs(),
          config.seed());
      return read(start(pb), preset, config);
    }
  }

  private List<String> command(JobConfig config, Path dir, Path jobFile, Threads.Split split) {
    List<String> command = new ArrayList<>();
    command.add(python);
    command.add(dir.resolve(script(config.model())).toString());
    command.addAll(
        List.of(
            "--job",
            jobFile.toString(),
            "--data",
            Datasets.locate(config.dataset(), dataDir).toString(),
            "--epochs",
            Integer.toString(config.epochs()),
            "--threads",
            Integer.toString(split.torch()),
            "--seed",
            Long.toString(config.seed())));
    if (limit != null) {
      command.addAll(List.of("--limit", Integer.toString(limit)));
    }
    // Both VAEs' peers compute the IWAE bound our run makes after its last epoch, so the two sides'
    // peak memory covers the same work.
    if (config.model().variational()) {
      command.addAll(List.of("--iwae-samples", Integer.toString(config.iwaeSamples())));
    }
    return command;
  }

  /** Our environment as the peer's, with our thread split and our OpenBLAS. */
  private static void environment(
      Map<String, String> env, Threads.Split split, boolean keepCoreType) {
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    env.put("OMP_NUM_THREADS", Integer.toString(split.torch()));
    env.put("OPENBLAS_NUM_THREADS", Integer.toString(split.blas()));
    BenchEnvironment.libtorchOpenBlas().ifPresent(p -> env.put("LD_PRELOAD", p.toString()));
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
  private static TempTree extract() throws IOException {
    TempTree dir = TempTree.create("latentstream-peers");
    try {
      for (String name : SCRIPTS) {
        try (InputStream in = BenchPeer.class.getResourceAsStream("/bench/" + name)) {
          if (in == null) {
            throw new IllegalStateException("bench/" + name + " is missing from the jar");
          }
          Files.copy(in, dir.dir().resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException | RuntimeException e) {
      dir.close();
      throw e;
    }
    return dir;
  }

  /**
   * The peer's JSON lines ({@link BenchPeerOutput}); on a line bench cannot read, the peer is
   * stopped and the error thrown.
   */
  private BenchSide read(Process p, String preset, JobConfig config)
      throws IOException, InterruptedException {
    String script = script(config.model());
    BenchPeerOutput output = new BenchPeerOutput(preset, script, config.iwaeSamples());
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        output.accept(line);
      }
    } catch (UserError e) {
      p.destroyForcibly().waitFor();
      throw e;
    }
    int code = p.waitFor();
    if (code != 0) {
      throw new UserError(
          "bench of "
              + preset
              + ": "
              + python
              + " "
              + script
              + " exited with "
              + code
              + " (is python3-torch installed? its stderr went to ours, above)");
    }
    return output.side(config.seed());
  }
}
