package dev.latentstream.config;

import dev.latentstream.data.Datasets;
import dev.latentstream.data.KnownDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's checks on a job before it is queued, beyond what a spec can say about itself:
 * whether it fits this machine's memory budget, names a device this machine has, asks for a sane
 * thread count and, for a spec that came over the network, reads a data set the operator meant to
 * offer. Runs on the trainer verticle's thread and allocates nothing native; every error names the
 * key.
 *
 * @param config the server's settings ({@code maxJobBytes}, {@code dataDir}, {@code
 *     allowDatasetPaths})
 * @param cudaDevices CUDA devices libtorch sees (0 on the CPU build)
 * @param cores processors available to the JVM
 */
public record JobAdmission(ServerConfig config, int cudaDevices, int cores) {

  /** Threads per core a job may ask for: more only adds contention. */
  static final int THREADS_PER_CORE = 4;

  public JobAdmission(ServerConfig config, int cudaDevices) {
    this(config, cudaDevices, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Checks {@code job}; {@code fromNetwork} is true for a spec sent by a client (REST or
   * WebSocket), false for a preset from {@code jobsDir}, which the operator wrote.
   *
   * @throws ConfigException naming the key when the job must be refused
   */
  public void check(JobConfig job, boolean fromNetwork) {
    checkDevice(job.device());
    int maxThreads = Math.min(JobConfigs.MAX_THREADS, THREADS_PER_CORE * cores);
    if (job.threads() > maxThreads) {
      throw new ConfigException(
          "\"threads\" must be from 0 (all cores) to "
              + maxThreads
              + " ("
              + THREADS_PER_CORE
              + " per core on this machine), got "
              + job.threads());
    }
    if (fromNetwork) {
      checkDataset(job.dataset());
    }
    JobBudget.check(job, config.maxJobBytes());
  }

  void checkDevice(String device) {
    if (!device.startsWith("cuda")) {
      return;
    }
    if (cudaDevices == 0) {
      throw new ConfigException(
          "\"device\" is \""
              + device
              + "\" but this server has no CUDA device (it runs the CPU "
              + "build of libtorch or sees no GPU); use \"auto\" or \"cpu\"");
    }
    int index = device.equals("cuda") ? 0 : Integer.parseInt(device.substring("cuda:".length()));
    if (index >= cudaDevices) {
      throw new ConfigException(
          "\"device\" is \""
              + device
              + "\" but this server has "
              + cudaDevices
              + " CUDA device"
              + (cudaDevices == 1 ? "" : "s")
              + " (cuda:0"
              + (cudaDevices > 1 ? " to cuda:" + (cudaDevices - 1) : "")
              + ")");
    }
  }

  /**
   * A known name, or a directory under {@code dataDir} (relative to it, or absolute inside it,
   * symbolic links resolved), unless {@code allowDatasetPaths} opens every path. The message never
   * shows a server path the client did not send.
   */
  void checkDataset(String dataset) {
    if (knownNames().contains(dataset) || config.allowDatasetPaths()) {
      return;
    }
    String refusal =
        "\"dataset\" must be one of "
            + String.join(", ", knownNames())
            + (config.dataDir() == null
                ? ""
                : " or a directory of IDX files under the server's dataDir")
            + ", got \""
            + dataset
            + "\" (the server key \"allowDatasetPaths\" allows other paths)";
    if (config.dataDir() == null) {
      throw new ConfigException(refusal);
    }
    try {
      Path root = config.dataDir().toRealPath();
      // the real path resolves "..", and symbolic links that lead out of dataDir
      Path dir = root.resolve(dataset);
      if (!Files.isDirectory(dir) || !dir.toRealPath().startsWith(root)) {
        throw new ConfigException(refusal);
      }
    } catch (IOException | InvalidPathException e) {
      throw new ConfigException(refusal);
    }
  }

  /** The names a spec may use anywhere: the registry's data sets and the generated one. */
  static List<String> knownNames() {
    List<String> names =
        new ArrayList<>(KnownDataset.ALL.stream().map(KnownDataset::name).toList());
    names.add(Datasets.SYNTHETIC);
    return List.copyOf(names);
  }
}
