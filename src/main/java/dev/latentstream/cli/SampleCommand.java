package dev.latentstream.cli;

import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.explore.Sampler;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.render.Png;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code latentstream sample}: a grid of samples from a run's latest checkpoint. */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    description = "Write a PNG grid of samples decoded from a run's latest checkpoint.")
public final class SampleCommand implements Callable<Integer> {

  @Mixin RunOption runOption;

  @Option(
      names = "--n",
      paramLabel = "N",
      defaultValue = "64",
      description = "How many samples (default: ${DEFAULT-VALUE}).")
  int n;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "Seed for the prior draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--out",
      paramLabel = "FILE.png",
      required = true,
      description = "Where to write the grid.")
  Path out;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Where to find the run's dataset (ae and dae only).")
  Path dataDir;

  @Override
  public Integer call() {
    Path run = runOption.withCheckpoint();
    if (n < 1 || n > 10_000) {
      throw new UserError("--n must be from 1 to 10000, got " + n);
    }
    var job = Checkpoint.readProgress(run).job();
    Dataset data =
        job.model().variational() || job.model() == dev.latentstream.config.JobConfig.ModelType.aae
            ? null
            : Datasets.load(job.dataset(), dataDir);
    Png png;
    try (Autoencoder model = Checkpoint.loadModel(run)) {
      png = Sampler.sample(model, n, seed, data, Renderers.best());
    }
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(out, png.bytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
    System.out.printf("wrote %d samples (%dx%d) to %s%n", n, png.width(), png.height(), out);
    return 0;
  }
}
