package dev.latentstream.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * What {@code bench} races, read from its options: a preset's job with {@code --epochs}, {@code
 * --dataset} and a seed, and its dataset cut to {@code --limit}. A changed key goes through the
 * job's JSON, so the result is checked as a spec is.
 */
final class BenchJobs {
  private BenchJobs() {}

  /** The preset's job with {@code epochs}, on {@code dataset} (null: its own). */
  static JobConfig load(Path presetFile, int epochs, String dataset) {
    JobConfig config = JobConfigs.load(resolve(presetFile)).withEpochs(epochs);
    return dataset == null ? config : with(config, "dataset", n -> n.put("dataset", dataset));
  }

  /** The row name of a preset file: {@code config/jobs/aae-mnist.json} is {@code aae-mnist}. */
  static String presetName(Path presetFile) {
    return presetFile.getFileName().toString().replaceFirst("\\.json$", "");
  }

  static JobConfig withSeed(JobConfig c, long seed) {
    return with(c, "seed", n -> n.put("seed", seed));
  }

  /** The first {@code limit} images of each set, or the dataset as it is (limit null). */
  static Dataset limited(Dataset d, Integer limit) {
    if (limit == null) {
      return d;
    }
    return new Dataset(d.name(), head(d.train(), limit), head(d.test(), limit), d.classNames());
  }

  /** A bare preset name ({@code vae-fashion}) means its file under {@code config/jobs}. */
  private static Path resolve(Path given) {
    if (Files.exists(given) || given.toString().endsWith(".json")) {
      return given;
    }
    return Path.of("config/jobs", given + ".json");
  }

  private static JobConfig with(JobConfig c, String key, Consumer<ObjectNode> change) {
    ObjectNode node = JobConfigs.JSON.valueToTree(c);
    change.accept(node);
    return JobConfigs.parse(node.toString(), "--" + key, c.name());
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
