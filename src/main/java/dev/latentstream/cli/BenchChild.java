package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import java.io.BufferedReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bench}'s own side in a JVM of its own. When one bench runs more than one row, each of our
 * runs is a child process: this process's java, JVM options and class path, running {@code bench}
 * for that one preset and engine. A row's peak memory is then its own, not the Java heap and freed
 * malloc blocks that earlier rows left behind (issue 19: aae-mnist read 774 MiB after four presets,
 * 345 MiB alone). The child's progress streams through to our stdout; its figures come back as JSON
 * in a file this class owns and deletes.
 */
final class BenchChild {
  private BenchChild() {}

  /** What the child hands back: its process id, and our side (null: the engine cannot run it). */
  record Result(long pid, BenchSide side) {}

  /**
   * Our side of {@code presetFile} on {@code engine} with {@code seed}, trained by a child bench
   * with {@code bench}'s options; null when the engine cannot run the job (the child says so). A
   * child that fails is an error naming the preset.
   */
  static BenchSide run(
      BenchCommand bench, Path presetFile, String preset, JobConfig.Engine engine, long seed)
      throws IOException, InterruptedException {
    try (TempTree dir = TempTree.create("latentstream-bench-child")) {
      Path json = dir.dir().resolve("our-side.json");
      ProcessBuilder pb = new ProcessBuilder(command(bench, presetFile, engine, seed, json));
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      Process child = pb.start();
      int code;
      try (BufferedReader out = child.inputReader()) {
        out.lines().forEach(System.out::println);
        code = child.waitFor();
      } finally {
        child.destroy();
      }
      if (code != 0 || !Files.exists(json)) {
        throw new UserError(
            String.format(
                "bench of %s (engine %s, seed %d) failed in its own JVM with exit code %d; its"
                    + " error is above",
                preset, engine.wireName(), seed, code));
      }
      Result result = JobConfigs.JSON.readValue(json.toFile(), Result.class);
      if (result.side() != null) {
        System.out.printf(
            "latentstream ran in its own JVM (pid %d): the peak memory is this row's alone%n",
            result.pid());
      }
      return result.side();
    }
  }

  /** In the child: hands {@code side} (null: no row) back to the bench that started this JVM. */
  static void write(Path json, BenchSide side) throws IOException {
    JobConfigs.JSON.writeValue(json.toFile(), new Result(ProcessHandle.current().pid(), side));
  }

  /**
   * This JVM again (the same java, options and class path; a debugger's agent left out, as its port
   * is taken), running bench for one preset, engine and seed, our side only.
   */
  private static List<String> command(
      BenchCommand bench, Path presetFile, JobConfig.Engine engine, long seed, Path json) {
    List<String> c = new ArrayList<>();
    c.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) {
        c.add(option);
      }
    }
    c.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    c.addAll(List.of("bench", "--job", presetFile.toString(), "--engine", engine.wireName()));
    c.addAll(List.of("--epochs", Integer.toString(bench.epochs), "--skip-python"));
    c.addAll(List.of("--seed", Long.toString(seed), "--seeds", "1"));
    if (bench.limit != null) {
      c.addAll(List.of("--limit", bench.limit.toString()));
    }
    if (bench.dataset != null) {
      c.addAll(List.of("--dataset", bench.dataset));
    }
    if (bench.dataDir != null) {
      c.addAll(List.of("--data-dir", bench.dataDir.toString()));
    }
    c.addAll(List.of(BenchCommand.OUR_SIDE_JSON, json.toString()));
    return c;
  }
}
