package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.runformat.RunLayout;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a job's history back from its run directory (the layout {@link RunLayout} names): loss
 * rows, test losses and live-setting changes from {@code metrics.csv}, and each epoch's frames from
 * its PNGs. Blocking: the hub calls it on a worker.
 */
final class RunFiles {

  private RunFiles() {}

  /**
   * Where a run directory's files come from: this machine's disk, or the trainer node's over the
   * event bus.
   */
  @FunctionalInterface
  interface Source {
    /**
     * The file's bytes ({@code name} relative to the run directory), or null when there is none.
     */
    byte[] read(String name) throws IOException;

    static Source disk(Path runDir) {
      return name -> {
        Path file = runDir.resolve(name);
        return Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
      };
    }
  }

  /**
   * A {@link JobHistory} holding what the run directory recorded up to {@code upToStep}
   * (inclusive), keeping at most {@code keepFrames} frames per stream; empty when there is no
   * {@code metrics.csv}.
   */
  static JobHistory read(Source runDir, int num, String id, long upToStep, int keepFrames)
      throws IOException {
    JobHistory past = new JobHistory(num, id);
    byte[] csv = runDir.read(MetricsCsv.FILE);
    if (csv == null || csv.length == 0) {
      return past;
    }
    Map<Integer, Long> epochEnds = new LinkedHashMap<>();
    for (MetricsCsv.Row row : MetricsCsv.parse(csv).rows()) {
      long step = row.step();
      if (step > upToStep) {
        break;
      }
      int epoch = row.epoch();
      past.addStep(step, epoch, -1, row.terms());
      if (!Double.isNaN(row.testLoss())) {
        past.addTest(epoch, step, row.testLoss());
        epochEnds.put(epoch, step);
      }
      // A change is written on the row of the first step it applied to; live, it is reported at the
      // step before.
      for (MetricsCsv.Setting change : row.settings()) {
        past.addSetting(step - 1, epoch, change.key(), change.value());
      }
    }
    List<Map.Entry<Integer, Long>> kept = List.copyOf(epochEnds.entrySet());
    for (Map.Entry<Integer, Long> end :
        kept.subList(Math.max(0, kept.size() - keepFrames), kept.size())) {
      for (FrameKind kind : FrameKind.values()) {
        byte[] bytes = runDir.read(RunLayout.frameFile(kind, end.getKey()));
        if (bytes != null && bytes.length >= 24) {
          ByteBuffer ihdr =
              ByteBuffer.wrap(
                  bytes); // big-endian; width and height follow the signature and IHDR tag
          past.addFrame(
              FrameMessage.of(
                  num,
                  new Frame(
                      kind, end.getValue(), end.getKey(), ihdr.getInt(16), ihdr.getInt(20), bytes)),
              keepFrames);
        }
      }
    }
    return past;
  }
}
