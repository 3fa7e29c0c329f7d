package dev.latentstream.cli;

import dev.latentstream.export.ModelExport;
import dev.latentstream.export.ModelWeights;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code latentstream export}: a run's checkpoint (latest, or the one at the end of an epoch) as a
 * PyTorch {@code state_dict} or a safetensors file, for {@code latentstream.models} in Python or
 * any other program.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = "Write a run's model as a PyTorch state_dict (pt) or a safetensors file.")
public final class ExportCommand implements Callable<Integer> {

  @Mixin RunOption runOption;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      required = true,
      description = "pt or safetensors.")
  String format;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      description =
          "Where to write (default: the run directory's name plus .pt or .safetensors, here).")
  Path out;

  @Option(
      names = "--epoch",
      paramLabel = "E",
      description =
          "The checkpoint taken at the end of epoch E (default: the latest, finished or not).")
  Integer epoch;

  @Option(
      names = "--part",
      paramLabel = "PART",
      defaultValue = "all",
      description =
          "all, or decoder: only what decoding codes into images needs (default: ${DEFAULT-VALUE}).")
  String part;

  @Override
  public Integer call() {
    ModelExport.Format f;
    ModelWeights.Part p;
    try {
      f = ModelExport.Format.named(format);
      p = ModelExport.part(part);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    if (epoch != null && epoch < 0) {
      throw new UserError("--epoch must be 0 or more, got " + epoch);
    }
    Path run = runOption.withCheckpoint();
    Path target =
        out != null ? out : Path.of(run.toAbsolutePath().normalize().getFileName() + f.extension());
    long t0 = System.nanoTime();
    ModelWeights weights = ModelWeights.read(run, epoch).only(p);
    long bytes = ModelExport.write(weights, f, target);
    System.out.printf(
        Locale.ROOT,
        "wrote %s (%s, %s, %d tensors, step %d, epoch %d): %d bytes in %.2f s%n",
        target,
        weights.job().model().wireName(),
        p == ModelWeights.Part.all ? "whole model" : "decoder",
        weights.parameters().size(),
        weights.step(),
        weights.epoch(),
        bytes,
        (System.nanoTime() - t0) / 1e9);
    return 0;
  }
}
