package dev.latentstream.export;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.train.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Export time and file size for each preset in {@code config/jobs}: a checkpoint of the preset's
 * model (with its optimiser state, as training writes it) is saved once, then read and written in
 * each format and part, the median of 5 runs after 2 warm-ups. Run from the checkout: {@code java
 * --enable-native-access=ALL-UNNAMED -cp "target/test-classes:target/classes:$(cat target/cp.txt)"
 * dev.latentstream.export.ExportBenchmark}
 */
public final class ExportBenchmark {

  public static void main(String[] args) throws Exception {
    Path tmp = Files.createTempDirectory("latentstream-export-bench");
    List<Path> presets;
    try (Stream<Path> files = Files.list(Path.of("config/jobs"))) {
      presets = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
    System.out.printf(
        Locale.ROOT,
        "%-20s %-10s %10s %10s %10s %10s%n",
        "preset",
        "model",
        "read ms",
        "format",
        "write ms",
        "bytes");
    for (Path preset : presets) {
      JobConfig job = JobConfigs.load(preset);
      Path run = tmp.resolve(job.name());
      try (Autoencoder model = Models.create(job, 28, 28)) {
        // One optimiser over every parameter: the optimiser state a checkpoint holds, near enough
        // for the AAE's two
        List<Optim> optims =
            List.of(Optimizers.create(job.optimizer(), model.parameters(), job.lr()));
        Checkpoint.save(run, model, optims, new CheckpointStore.Progress(job, 1, 469, 28, 28));
      }
      double read = median(() -> ModelWeights.read(run, null));
      ModelWeights weights = ModelWeights.read(run, null);
      for (ModelExport.Format format : ModelExport.Format.values()) {
        for (ModelWeights.Part part : ModelWeights.Part.values()) {
          Path out = tmp.resolve(job.name() + "-" + part + format.extension());
          double write = median(() -> ModelExport.write(weights.only(part), format, out));
          System.out.printf(
              Locale.ROOT,
              "%-20s %-10s %10.1f %10s %10.1f %10d%n",
              job.name(),
              job.model().wireName(),
              read,
              format + (part == ModelWeights.Part.all ? "" : "/dec"),
              write,
              Files.size(out));
        }
      }
    }
  }

  private static double median(java.util.concurrent.Callable<?> task) throws Exception {
    for (int i = 0; i < 2; i++) {
      task.call();
    }
    double[] ms = new double[5];
    for (int i = 0; i < ms.length; i++) {
      long t0 = System.nanoTime();
      task.call();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return ms[ms.length / 2];
  }
}
