package dev.latentstream.jobs;

import dev.latentstream.export.ModelExport;
import dev.latentstream.export.ModelWeights;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.runformat.RunLayout;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The jobs' exported models ({@link dev.latentstream.bus.TrainerCommand.ExportModel}): each written
 * once per checkpoint, format and part into the run directory ({@link RunLayout#modelFile}), where
 * the gateway sends it from disk or relays it like any run file. A checkpoint is known by its
 * file's size and modification time, so a page polling for new weights costs a file stat here until
 * the trainer writes the next checkpoint. The weights of the last few checkpoints asked for stay on
 * the heap. A run that keeps its epoch checkpoints ({@code keepEpochCheckpoints}) is also exported
 * from one of them on request (an epoch, or the last at or before a step); those exports stay until
 * the next export of the latest checkpoint prunes them. Blocking: called on a worker, one call at a
 * time.
 */
final class ModelFiles {

  private static final int FILES_KEPT = 8;

  /** Exports of older checkpoints kept beside the newest, for a download already under way. */
  private static final int OLDER_KEPT = 1;

  private record Version(Path file, long size, long modified) {}

  private record Cached(Version version, ModelWeights weights) {}

  /** By checkpoint file (latest.pt, previous.pt or an epoch's). */
  private final Map<Path, Cached> byFile =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Cached> eldest) {
          return size() > FILES_KEPT;
        }
      };

  /**
   * Makes sure the run's latest checkpoint is exported in {@code format}, {@code part}; returns
   * {@code {"file", "step", "epoch", "size"}}.
   *
   * @throws ReplyError 404 without a checkpoint, 409 when it does not load
   */
  synchronized JsonObject export(String job, Path runDir, String format, String part) {
    return export(job, runDir, format, part, null, null);
  }

  /**
   * As {@link #export(String, Path, String, String)}, from the checkpoint kept at the end of {@code
   * epoch}, or the last one kept at or before {@code step} (at most one of them not null).
   *
   * @throws ReplyError 404 also when the run kept no such checkpoint (saying which it kept)
   */
  synchronized JsonObject export(
      String job, Path runDir, String format, String part, Integer epoch, Long step) {
    RunLayout.checkModel(format, part);
    boolean latest = epoch == null && step == null;
    Version version = latest ? version(runDir) : kept(job, runDir, epoch, step);
    if (version == null) {
      throw new ReplyError(
          ReplyError.NOT_FOUND,
          "job " + job + " has no checkpoint yet (the first is written at the end of epoch 1)");
    }
    Cached cached = byFile.get(version.file);
    if (cached == null || !cached.version.equals(version)) {
      try {
        cached =
            new Cached(
                version,
                latest ? ModelWeights.read(runDir, null) : ModelWeights.readFile(version.file));
      } catch (Checkpoint.CheckpointException e) {
        throw new ReplyError(
            ReplyError.CONFLICT,
            "job " + job + ": cannot export its checkpoint: " + e.getMessage());
      }
      byFile.put(version.file, cached);
    }
    ModelWeights weights = cached.weights;
    String name = RunLayout.modelFile(part, weights.step(), format);
    Path file = runDir.resolve(name);
    try {
      if (!Files.isRegularFile(file)) {
        ModelExport.write(
            weights.only(ModelExport.part(part)), ModelExport.Format.named(format), file);
        if (latest) {
          prune(file.getParent(), part, format, weights.step());
        }
      }
      return new JsonObject()
          .put("file", name)
          .put("step", weights.step())
          .put("epoch", weights.epoch())
          .put("size", Files.size(file));
    } catch (IOException | UncheckedIOException e) {
      throw new ReplyError(
          ReplyError.INTERNAL, "job " + job + ": cannot write " + name + ": " + e.getMessage());
    }
  }

  /**
   * The kept epoch checkpoint asked for: the one of {@code epoch}, or the last at or before {@code
   * step}.
   *
   * @throws ReplyError 404 naming what the run kept, when it kept no such checkpoint
   */
  private static Version kept(String job, Path runDir, Integer epoch, Long step) {
    List<Checkpoint.EpochCheckpoint> kept = Checkpoint.epochCheckpoints(runDir);
    Checkpoint.EpochCheckpoint found = null;
    for (Checkpoint.EpochCheckpoint c : kept) {
      if (epoch != null ? c.epoch() == epoch : c.step() <= step) {
        found = c;
      }
    }
    if (found == null) {
      String asked = epoch != null ? "at the end of epoch " + epoch : "at or before step " + step;
      throw new ReplyError(
          ReplyError.NOT_FOUND,
          "job "
              + job
              + " kept no checkpoint "
              + asked
              + (kept.isEmpty()
                  ? " (it keeps only its latest: start it with \"keepEpochCheckpoints\": true to"
                      + " keep each epoch's)"
                  : " (it kept epochs "
                      + kept.stream()
                          .map(c -> c.epoch() + " at step " + c.step())
                          .collect(java.util.stream.Collectors.joining(", "))
                      + ")"));
    }
    try {
      return new Version(
          found.file(),
          Files.size(found.file()),
          Files.getLastModifiedTime(found.file()).toMillis());
    } catch (IOException gone) {
      throw new ReplyError(
          ReplyError.NOT_FOUND, "job " + job + ": " + found.file().getFileName() + " is gone");
    }
  }

  /** The checkpoint file a load would read first, as it is now; null when the run has none. */
  private static Version version(Path runDir) {
    for (Path f :
        List.of(
            Checkpoint.file(runDir), runDir.resolve("checkpoint").resolve(Checkpoint.PREVIOUS))) {
      try {
        return new Version(f, Files.size(f), Files.getLastModifiedTime(f).toMillis());
      } catch (IOException missing) {
        // the next candidate
      }
    }
    return null;
  }

  /** Deletes the exports of this part and format older than the newest {@link #OLDER_KEPT} + 1. */
  private static void prune(Path dir, String part, String format, long current) throws IOException {
    Pattern same = Pattern.compile(Pattern.quote(part) + "-([0-9]+)\\." + Pattern.quote(format));
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> old =
          files
              .filter(f -> same.matcher(f.getFileName().toString()).matches())
              .sorted(
                  Comparator.comparingLong(
                          (Path f) -> step(same.matcher(f.getFileName().toString())))
                      .reversed())
              .filter(f -> step(same.matcher(f.getFileName().toString())) != current)
              .skip(OLDER_KEPT)
              .toList();
      for (Path f : old) {
        Files.deleteIfExists(f);
      }
    }
  }

  private static long step(Matcher m) {
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }
}
