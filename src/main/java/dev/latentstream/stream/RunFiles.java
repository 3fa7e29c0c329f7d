package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.train.Frame;
import dev.latentstream.train.FrameKind;
import dev.latentstream.train.RunDirectoryWriter;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a job's history back from its run directory (the layout {@link RunDirectoryWriter} writes):
 * loss rows, test losses and live-setting changes from {@code metrics.csv}, and each epoch's frames from
 * its PNGs. Blocking: the hub calls it on a worker.
 */
final class RunFiles {

  private RunFiles() {}

  /**
   * A {@link JobStream} holding what {@code runDir} recorded up to {@code upToStep} (inclusive), keeping
   * at most {@code keepFrames} frames per stream; empty when there is no {@code metrics.csv}.
   */
  static JobStream read(Path runDir, int num, JsonObject status, long upToStep, int keepFrames) throws IOException {
    JobStream past = new JobStream(num, status);
    Path csv = runDir.resolve("metrics.csv");
    if (!Files.isRegularFile(csv)) {
      return past;
    }
    List<String> lines = Files.readAllLines(csv);
    if (lines.isEmpty()) {
      return past;
    }
    // step, epoch, <terms>, test_loss, seconds, setting
    String[] header = lines.getFirst().split(",", -1);
    int test = header.length - 3;
    int setting = header.length - 1;
    Map<Integer, Long> epochEnds = new LinkedHashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      if (f.length != header.length) {
        continue; // a row cut short by a crash
      }
      long step = Long.parseLong(f[0]);
      if (step > upToStep) {
        break;
      }
      int epoch = Integer.parseInt(f[1]);
      Map<String, Double> terms = new LinkedHashMap<>();
      for (int i = 2; i < test; i++) {
        if (!f[i].isEmpty()) {
          terms.put(header[i], Double.parseDouble(f[i]));
        }
      }
      past.loss.add(step, epoch, -1, terms);
      if (!f[test].isEmpty()) {
        past.addTest(epoch, step, Double.parseDouble(f[test]));
        epochEnds.put(epoch, step);
      }
      // A change is written on the row of the first step it applied to; live, it is reported at the step before.
      for (String change : f[setting].split(";")) {
        int eq = change.indexOf('=');
        if (eq > 0) {
          past.addSetting(step - 1, epoch, change.substring(0, eq), Double.parseDouble(change.substring(eq + 1)));
        }
      }
    }
    List<Map.Entry<Integer, Long>> kept = List.copyOf(epochEnds.entrySet());
    for (Map.Entry<Integer, Long> end : kept.subList(Math.max(0, kept.size() - keepFrames), kept.size())) {
      for (FrameKind kind : FrameKind.values()) {
        Path png = runDir.resolve(RunDirectoryWriter.fileName(kind, end.getKey()));
        if (Files.isRegularFile(png)) {
          byte[] bytes = Files.readAllBytes(png);
          ByteBuffer ihdr = ByteBuffer.wrap(bytes); // big-endian; width and height follow the signature and IHDR tag
          past.addFrame(FrameMessage.of(num, new Frame(kind, end.getValue(), end.getKey(), ihdr.getInt(16),
              ihdr.getInt(20), bytes)), keepFrames);
        }
      }
    }
    return past;
  }
}
