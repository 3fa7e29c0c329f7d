package dev.latentstream.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code metrics.csv}: one row per step ({@code step, epoch, <terms>, test_loss, seconds, setting}), where
 * {@code seconds} is the time into the epoch, {@code test_loss} is filled on the last step of each epoch and {@code setting} records a live
 * change ({@code lr=0.0005}) made before that step. On resume the rows after the checkpoint are dropped,
 * so the file continues the same sequence.
 */
final class MetricsCsv implements AutoCloseable {

  private final Path file;
  private BufferedWriter out;
  private List<String> terms;
  private long lastFlush;
  private String pendingSetting = "";

  MetricsCsv(Path file) {
    this.file = file;
  }

  void open(List<String> lossTerms, long keepUpToStep) {
    terms = lossTerms;
    String header = "step,epoch," + String.join(",", lossTerms) + ",test_loss,seconds,setting";
    try {
      List<String> kept = new ArrayList<>();
      if (keepUpToStep > 0 && Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (line.startsWith("step,") || line.isBlank()) {
            continue;
          }
          long s = Long.parseLong(line.substring(0, line.indexOf(',')));
          if (s <= keepUpToStep) {
            kept.add(line);
          }
        }
      }
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
      out.write(header);
      out.newLine();
      for (String line : kept) {
        out.write(line);
        out.newLine();
      }
      out.flush();
    } catch (IOException | RuntimeException e) {
      throw new UncheckedIOException(new IOException("cannot write " + file + ": " + e.getMessage(), e));
    }
  }

  void setting(String key, double value) {
    pendingSetting = (pendingSetting.isEmpty() ? "" : pendingSetting + ";") + key + "=" + fmt(value);
  }

  void step(StepMetrics m) {
    writePending("");
    pending = m;
    pendingSettingOfRow = pendingSetting;
    pendingSetting = "";
  }

  /** The epoch's test loss goes on the row of its last step. */
  void epoch(EpochResult e) {
    writePending(fmt(e.testLoss()));
    flush();
  }

  private StepMetrics pending;
  private String pendingSettingOfRow = "";

  private void writePending(String test) {
    if (pending == null) {
      return;
    }
    StepMetrics m = pending;
    pending = null;
    try {
      out.write(m.step() + "," + m.epoch() + ","
          + String.join(",", terms.stream().map(t -> fmt(m.terms().getOrDefault(t, Double.NaN))).toList()) + ","
          + test + "," + String.format(Locale.ROOT, "%.3f", m.elapsedSeconds()) + "," + pendingSettingOfRow);
      out.newLine();
      long now = System.nanoTime();
      if (now - lastFlush > 1_000_000_000L) {
        flush();
        lastFlush = now;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }

  @Override
  public void close() {
    if (out != null) {
      writePending("");
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + file, e);
      }
    }
  }
}
