package dev.latentstream.rundir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.optim.Optim;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.runformat.WriteFence;
import dev.latentstream.train.CheckpointStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.DeviceType;

/**
 * The run's checkpoint ({@code checkpoint/latest.pt}, a libtorch archive) holding the model, every
 * optimiser's state, the progress and the resolved job. Checkpoints are taken at epoch ends and
 * when a run is stopped (by a user or a server shutdown) between two steps of an epoch. Each epoch
 * reseeds the generator from (seed, epoch); a checkpoint inside an epoch also holds the batches
 * done, the epoch's partial sums of the training terms and the generator's state ({@link InEpoch},
 * key {@code inEpoch}). Resuming therefore replays exactly the run that would have followed.
 *
 * <p>Formats: 3 may hold {@code inEpoch}; 2 (before it) is read as a checkpoint at an epoch
 * boundary.
 *
 * <p>Durability: a new checkpoint is written from Java (see {@code ChannelWriter}: a full disk is
 * an exception, never an abort of the process) to {@code latest.pt.tmp} and fsynced; the current
 * {@code latest.pt} is renamed to {@code previous.pt} and the directory fsynced; then the temporary
 * file is renamed to {@code latest.pt} and the directory fsynced again. A crash or power cut at any
 * moment therefore leaves at least one complete checkpoint, and loading falls back to {@code
 * previous.pt} (saying so in {@link Progress#note}) when {@code latest.pt} is missing or does not
 * load. A save that fails (a full disk) removes its temporary file and leaves both checkpoints as
 * they were.
 */
public final class Checkpoint implements CheckpointStore {

  static {
    dev.latentstream.model.Libtorch.load();
  }

  /** {@code latest.pt}: the name of {@link RunLayout#CHECKPOINT} in its folder. */
  public static final String FILE = Path.of(RunLayout.CHECKPOINT).getFileName().toString();

  public static final String PREVIOUS = "previous.pt";
  private static final long FORMAT = 3;

  /** The format before checkpoints inside an epoch: still loaded, always at an epoch boundary. */
  private static final long FORMAT_EPOCH_ENDS = 2;

  private final Path runDir;
  private final WriteFence fence;

  /** The checkpoint of the run in {@code runDir}, as the trainer's {@link CheckpointStore}. */
  public Checkpoint(Path runDir) {
    this(runDir, WriteFence.NONE);
  }

  /**
   * As {@link #Checkpoint(Path)}, putting each new checkpoint into place only through {@code fence}
   * (a failover group's {@link RunFence}).
   */
  public Checkpoint(Path runDir, WriteFence fence) {
    this.runDir = runDir;
    this.fence = fence;
  }

  @Override
  public void save(Module model, List<Optim> optimizers, Progress progress) {
    save(runDir, fence, model, optimizers, progress);
  }

  @Override
  public Progress load(Module model, List<Optim> optimizers) {
    return load(runDir, model, optimizers);
  }

  public static Path file(Path runDir) {
    return runDir.resolve(RunLayout.CHECKPOINT);
  }

  public static boolean exists(Path runDir) {
    return Files.isRegularFile(file(runDir)) || Files.isRegularFile(previous(runDir));
  }

  static Path previous(Path runDir) {
    return file(runDir).resolveSibling(PREVIOUS);
  }

  public static void save(Path runDir, Module model, List<Optim> optimizers, Progress progress) {
    save(runDir, WriteFence.NONE, model, optimizers, progress);
  }

  /**
   * Writes the checkpoint to a temporary file ({@code latest.pt.tmp}; a fenced writer, one of a
   * failover group's nodes, uses a name of its own, so a stale writer never writes into the owner's
   * temporary file), then, inside {@code fence}, renames it into place and keeps the epoch's copy:
   * a writer that no longer owns the run is refused there, and leaves both checkpoints as the owner
   * wrote them.
   */
  static void save(
      Path runDir, WriteFence fence, Module model, List<Optim> optimizers, Progress progress) {
    Path target = file(runDir);
    Path tmp = null;
    boolean done = false;
    try {
      Files.createDirectories(target.getParent());
      tmp =
          fence == WriteFence.NONE
              ? AtomicFile.temporary(target)
              : target.resolveSibling(FILE + "." + java.util.UUID.randomUUID() + AtomicFile.TMP);
      OutputArchive root = new OutputArchive();
      OutputArchive m = new OutputArchive();
      model.save(m);
      root.write("model", m);
      for (int i = 0; i < optimizers.size(); i++) {
        OutputArchive o = new OutputArchive();
        optimizers.get(i).save(o);
        root.write("optim" + i, o);
      }
      root.write("format", new IValue(FORMAT));
      root.write("epoch", new IValue((long) progress.epoch()));
      root.write("step", new IValue(progress.step()));
      root.write("job", new IValue(JobConfigs.toJson(progress.job())));
      root.write("height", new IValue((long) progress.height()));
      root.write("width", new IValue((long) progress.width()));
      if (progress.inEpoch() != null) {
        root.write("inEpoch", new IValue(inEpochJson(progress.inEpoch())));
      }
      try (FileChannel ch =
              FileChannel.open(
                  tmp,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.WRITE);
          ChannelWriter writer = new ChannelWriter(ch)) {
        root.save_to(writer);
        writer.rethrow();
        ch.force(true);
      }
      Path written = tmp;
      fence.commit(
          () -> {
            if (Files.isRegularFile(target)) {
              Files.move(
                  target,
                  previous(runDir),
                  StandardCopyOption.ATOMIC_MOVE,
                  StandardCopyOption.REPLACE_EXISTING);
              AtomicFile.forceDirectory(target.getParent());
            }
            Files.move(
                written,
                target,
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
            if (progress.inEpoch() == null && progress.job().keepEpochCheckpoints()) {
              keepAtEpochEnd(runDir, target, progress);
            }
          });
      done = true;
      // Outside the fence, which a taker waits for: the rename is made, only its durability is
      // left.
      AtomicFile.forceDirectory(target.getParent());
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(target, e);
    } finally {
      if (!done && tmp != null) {
        AtomicFile.deleteQuietly(tmp);
      }
    }
  }

  /** A checkpoint kept at the end of an epoch (job key {@code keepEpochCheckpoints}). */
  public record EpochCheckpoint(int epoch, long step, Path file) {}

  private static final java.util.regex.Pattern EPOCH_FILE =
      java.util.regex.Pattern.compile("epoch-([0-9]{1,9})-step-([0-9]{1,19})\\.pt");

  /**
   * Keeps {@code latest} as {@code epoch-E-step-S.pt} beside it: a hard link (no copy, and latest
   * is only ever replaced by a rename, so the link keeps this epoch's bytes), or a copy where the
   * file system has no links. Written as a temporary file and renamed, so a kept epoch is whole.
   */
  private static void keepAtEpochEnd(Path runDir, Path latest, Progress progress) {
    Path kept =
        latest.resolveSibling("epoch-" + progress.epoch() + "-step-" + progress.step() + ".pt");
    Path tmp = AtomicFile.temporary(kept);
    try {
      Files.deleteIfExists(tmp);
      try {
        Files.createLink(tmp, latest);
      } catch (UnsupportedOperationException | IOException noLinks) {
        Files.copy(latest, tmp, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(tmp, kept, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      AtomicFile.forceDirectory(kept.getParent());
    } catch (IOException e) {
      AtomicFile.deleteQuietly(tmp);
      throw AtomicFile.cannotWrite(kept, e);
    }
  }

  /** The checkpoints the run kept at epoch ends, by step (empty when it kept none). */
  public static List<EpochCheckpoint> epochCheckpoints(Path runDir) {
    Path dir = file(runDir).getParent();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      return files
          .map(
              f -> {
                java.util.regex.Matcher m = EPOCH_FILE.matcher(f.getFileName().toString());
                return m.matches()
                    ? new EpochCheckpoint(
                        Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), f)
                    : null;
              })
          .filter(java.util.Objects::nonNull)
          .sorted(java.util.Comparator.comparingLong(EpochCheckpoint::step))
          .toList();
    } catch (IOException e) {
      throw new CheckpointException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * libtorch's archive writer as a Java callback that writes each chunk to the temporary file. Left
   * to write a file itself, libtorch's {@code PyTorchStreamWriter} throws from its destructor when
   * a write fails (a full disk), and C++ then calls {@code std::terminate}: the whole process dies.
   * Here a failed write is remembered and thrown by Java after {@code save_to} returns, and
   * libtorch is always told that every byte was written, so it never throws. Chunks go straight to
   * the file: no copy of the whole checkpoint is held in memory. {@link #save} owns it and closes
   * it (freeing the native thunk).
   */
  private static final class ChannelWriter extends ArchiveWriter implements AutoCloseable {
    private final FileChannel channel;
    private IOException failure;

    ChannelWriter(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public long call(Pointer data, long size) {
      if (failure == null && size > 0) {
        try {
          if (data == null || data.isNull()) {
            throw new IOException("libtorch passed no data for " + size + " bytes");
          }
          ByteBuffer chunk = new BytePointer(data).capacity(size).limit(size).asBuffer();
          AtomicFile.writeFully(channel, chunk);
        } catch (IOException e) {
          failure = e;
        } catch (RuntimeException e) {
          failure = new IOException(e.getMessage(), e);
        }
      }
      return size;
    }

    void rethrow() throws IOException {
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Reads only the progress and job, without building a model; falls back to previous.pt as {@link
   * #load} does.
   */
  public static Progress readProgress(Path runDir) {
    return withFallback(runDir, f -> progress(open(f), f));
  }

  /**
   * Restores the weights and optimiser states from {@code latest.pt}, or from {@code previous.pt}
   * when {@code latest.pt} is missing or fails to load; the returned progress then carries a note
   * saying so.
   *
   * @throws CheckpointException when neither loads (with the reason {@code latest.pt} failed)
   */
  public static Progress load(Path runDir, Module model, List<Optim> optimizers) {
    return withFallback(runDir, f -> loadFile(f, model, optimizers));
  }

  private static Progress withFallback(
      Path runDir, java.util.function.Function<Path, Progress> read) {
    Path latest = file(runDir);
    Path previous = previous(runDir);
    try {
      return read.apply(latest);
    } catch (CheckpointException e) {
      if (!Files.isRegularFile(previous)) {
        throw e;
      }
      Progress p;
      try {
        p = read.apply(previous);
      } catch (CheckpointException alsoBad) {
        throw e;
      }
      return p.withNote(
          "resuming from " + previous.getFileName() + " (" + p.where() + "): " + e.getMessage());
    }
  }

  private static Progress loadFile(Path f, Module model, List<Optim> optimizers) {
    InputArchive root = open(f, deviceOf(model));
    Progress p = progress(root, f);
    try {
      InputArchive m = new InputArchive();
      root.read("model", m);
      model.load(m);
      for (int i = 0; i < optimizers.size(); i++) {
        InputArchive o = new InputArchive();
        root.read("optim" + i, o);
        optimizers.get(i).load(o);
      }
    } catch (RuntimeException e) {
      throw new CheckpointException(
          f + ": checkpoint does not match this model: " + firstLine(e.getMessage()), e);
    }
    return p;
  }

  /**
   * Builds the model the run trained and loads its weights; the caller owns the model and closes
   * it.
   */
  public static Autoencoder loadModel(Path runDir) {
    return loadModelWithProgress(runDir).model();
  }

  /** {@link #loadModel}, with the progress of the checkpoint file the weights came from. */
  public static Loaded loadModelWithProgress(Path runDir) {
    Progress p = readProgress(runDir);
    Autoencoder model = Models.create(p.job(), p.height(), p.width());
    try {
      return new Loaded(model, load(runDir, model, List.of()));
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * A model built and loaded from a checkpoint, and that checkpoint's progress; closing it frees
   * the model.
   */
  public record Loaded(Autoencoder model, Progress progress) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
    }
  }

  /**
   * Builds the model and loads the weights of checkpoint file {@code f}; the caller closes the
   * result.
   *
   * @throws CheckpointException when it does not load
   */
  public static Loaded loadModelFile(Path f) {
    return loadModel(f, progress(open(f), f));
  }

  /** Builds the model that {@code p} describes and loads file {@code f}'s weights into it. */
  private static Loaded loadModel(Path f, Progress p) {
    Autoencoder model = Models.create(p.job(), p.height(), p.width());
    try {
      loadFile(f, model, List.of());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    return new Loaded(model, p);
  }

  /**
   * Builds the model and loads the weights of the checkpoint taken at the end of epoch {@code
   * epoch}: {@code latest.pt} or {@code previous.pt}, whichever was taken there (a run keeps those
   * two). The caller owns the model and closes it (closing the result does).
   *
   * @throws CheckpointException when the run kept no checkpoint at the end of that epoch (naming
   *     those it kept)
   */
  public static Loaded loadModelAtEpoch(Path runDir, int epoch) {
    List<String> kept = new java.util.ArrayList<>();
    List<Path> candidates = new java.util.ArrayList<>();
    epochCheckpoints(runDir).stream()
        .filter(c -> c.epoch() == epoch)
        .forEach(c -> candidates.add(c.file()));
    candidates.add(file(runDir));
    candidates.add(previous(runDir));
    for (Path f : candidates) {
      if (!Files.isRegularFile(f)) {
        continue;
      }
      Progress p = progress(open(f), f);
      if (p.epoch() == epoch && p.inEpoch() == null) {
        return loadModel(f, p);
      }
      kept.add(f.getFileName() + " " + p.where());
    }
    throw new CheckpointException(
        runDir
            + " kept no checkpoint at the end of epoch "
            + epoch
            + (kept.isEmpty() ? " (it has none)" : " (it keeps " + String.join(", ", kept) + ")"));
  }

  /**
   * Where a checkpoint's tensors go: the device of the model they are loaded into (its first
   * parameter's), the CPU for a model without parameters.
   */
  static Device deviceOf(Module model) {
    TensorVector params = model.parameters();
    return params.empty() ? new Device(DeviceType.CPU) : params.get(0).device();
  }

  /** Opens {@code f} with its tensors on the CPU: what reading the progress needs. */
  private static InputArchive open(Path f) {
    return open(f, new Device(DeviceType.CPU));
  }

  /**
   * Opens {@code f} with every tensor mapped to {@code device} as it is read (PyTorch's {@code
   * map_location}). Without it each tensor comes back on the device it was saved from: a checkpoint
   * written on CUDA would not open on a CPU build, and one written on the CPU would silently move a
   * CUDA model's weights to the CPU (libtorch's archive swaps a parameter's data when the devices
   * differ).
   */
  static InputArchive open(Path f, Device device) {
    if (!Files.isRegularFile(f)) {
      throw new CheckpointException(f + ": no checkpoint to resume from");
    }
    InputArchive root = new InputArchive();
    try {
      root.load_from(f.toString(), new DeviceOptional(device));
    } catch (RuntimeException e) {
      throw new CheckpointException(
          f + ": not a readable checkpoint: " + firstLine(e.getMessage()), e);
    }
    return root;
  }

  private static Progress progress(InputArchive root, Path f) {
    try {
      IValue format = new IValue();
      root.read("format", format);
      if (format.toInt() != FORMAT && format.toInt() != FORMAT_EPOCH_ENDS) {
        throw new CheckpointException(f + ": unsupported checkpoint format " + format.toInt());
      }
      IValue epoch = new IValue();
      IValue step = new IValue();
      IValue job = new IValue();
      root.read("epoch", epoch);
      root.read("step", step);
      root.read("job", job);
      IValue height = new IValue();
      IValue width = new IValue();
      root.read("height", height);
      root.read("width", width);
      JobConfig parsed =
          JobConfigs.parse(job.toStringRef().getString(), f.toString(), "checkpoint");
      IValue inEpoch = new IValue();
      InEpoch at =
          root.try_read("inEpoch", inEpoch) ? inEpoch(inEpoch.toStringRef().getString(), f) : null;
      return new Progress(
          parsed, (int) epoch.toInt(), step.toInt(), (int) height.toInt(), (int) width.toInt(), at);
    } catch (CheckpointException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CheckpointException(
          f + ": not a latentstream checkpoint: " + firstLine(e.getMessage()), e);
    }
  }

  /**
   * The position inside an epoch as JSON: doubles as Jackson writes them (they read back exactly).
   */
  static String inEpochJson(InEpoch at) {
    ObjectNode o = JobConfigs.JSON.createObjectNode();
    o.put("batches", at.batches());
    o.put("seconds", at.seconds());
    ObjectNode sums = o.putObject("sums");
    at.sums().forEach(sums::put);
    if (at.generator() != null) {
      o.put("generator", Base64.getEncoder().encodeToString(at.generator()));
    }
    return o.toString();
  }

  static InEpoch inEpoch(String json, Path f) {
    try {
      JsonNode o = JobConfigs.JSON.readTree(json);
      Map<String, Double> sums = new LinkedHashMap<>();
      o.required("sums").properties().forEach(e -> sums.put(e.getKey(), e.getValue().asDouble()));
      byte[] generator =
          o.hasNonNull("generator")
              ? Base64.getDecoder().decode(o.get("generator").asText())
              : null;
      return new InEpoch(
          o.required("batches").asInt(), sums, o.path("seconds").asDouble(0), generator);
    } catch (IOException | IllegalArgumentException e) {
      throw new CheckpointException(
          f + ": damaged position inside the epoch (inEpoch): " + e.getMessage(), e);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unknown error";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** A checkpoint is missing, unreadable or does not fit the model. */
  public static final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
      super(message);
    }

    public CheckpointException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
