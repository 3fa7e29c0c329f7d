package dev.latentstream.runformat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code metrics.csv}: one row per step ({@code step, epoch, <terms>, test_loss, seconds, setting,
 * active_units, topk_fraction, warning}), where {@code seconds} is the time into the epoch, {@code
 * test_loss} is filled on the last step of each epoch, {@code setting} records the live changes
 * made before that step ({@code lr=0.0005;beta=2}), {@code active_units} and {@code topk_fraction}
 * the latent diagnostics measured after it, and {@code warning} the codes of alarms raised at it
 * ({@code posterior_collapse;test_loss_rising}). On resume the rows after the checkpoint are
 * dropped, so the file continues the same sequence; a stopped run is checkpointed at its last step,
 * so then none are.
 *
 * <p>This class is the one place that knows the format: everyone reads the file through {@link
 * #read} or {@link #parse}, and the run directory's writer writes it through an instance. The
 * writing methods take plain values, so a reader (a gateway) links nothing of the trainer's. An
 * instance is used on the trainer thread; {@link #read} is blocking and runs on any thread.
 */
public final class MetricsCsv implements AutoCloseable {

  public static final String FILE = "metrics.csv";

  /** Columns after the loss terms, in this order. */
  static final List<String> TRAILING =
      List.of("test_loss", "seconds", "setting", "active_units", "topk_fraction", "warning");

  /** Columns that hold text; every other non-empty cell is a number. */
  static final List<String> TEXT_COLUMNS = List.of("setting", "warning");

  private final Path file;

  /** Appends rows; {@link #committed} bytes of it are whole rows on the disk. */
  private FileChannel out;

  private long committed;
  private final StringBuilder buffer = new StringBuilder();
  private List<String> terms;
  private long lastFlush;
  private String pendingSetting = "";

  /**
   * The latest step's row, held until the next step so the epoch's test loss and diagnostics can
   * join it.
   */
  private PendingRow pending;

  private static final class PendingRow {
    final long step;
    final int epoch;
    final Map<String, Double> terms;
    final double seconds;
    final String setting;
    String test = "";
    String activeUnits = "";
    String topKFraction = "";
    String warning = "";

    PendingRow(long step, int epoch, Map<String, Double> terms, double seconds, String setting) {
      this.step = step;
      this.epoch = epoch;
      this.terms = terms;
      this.seconds = seconds;
      this.setting = setting;
    }
  }

  /** Writes through {@link #open} and the rows appended after it only inside this fence. */
  private final WriteFence fence;

  public MetricsCsv(Path file) {
    this(file, WriteFence.NONE);
  }

  /**
   * A writer of {@code file} whose restart and appended rows each happen inside {@code fence}: in a
   * failover group, a node that no longer owns the run writes none.
   */
  public MetricsCsv(Path file, WriteFence fence) {
    this.file = file;
    this.fence = fence;
  }

  /**
   * Starts the file with {@code lossTerms} as its term columns: a fresh one, or on a resume the
   * whole rows up to {@code keepUpToStep} (a row cut short by a crash is dropped). The new content
   * replaces the file atomically ({@link AtomicFile}), so a failure here (a full disk) leaves the
   * old file as it was.
   */
  public void open(List<String> lossTerms, long keepUpToStep) {
    terms = lossTerms;
    String header = "step,epoch," + String.join(",", lossTerms) + "," + String.join(",", TRAILING);
    int columns = 2 + lossTerms.size() + TRAILING.size();
    StringBuilder content = new StringBuilder(header).append('\n');
    if (keepUpToStep > 0 && Files.exists(file)) {
      Lines lines;
      try {
        lines = wholeLines(file.getFileName().toString(), Files.readAllBytes(file));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
      }
      // Rows from before the diagnostics columns existed are whole with the old header's count of
      // cells.
      int had = lines.header().length;
      for (String[] cells : lines.rows()) {
        if (Long.parseLong(cells[0]) <= keepUpToStep) {
          String line = String.join(",", cells);
          content.append(had < columns ? line + ",".repeat(columns - had) : line).append('\n');
        }
      }
    }
    try {
      fence.commit(
          () -> {
            AtomicFile.write(file, content.toString().getBytes(StandardCharsets.UTF_8));
            out = FileChannel.open(file, StandardOpenOption.WRITE);
            committed = out.size();
          });
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(file, e);
    }
  }

  /** A live change, written on the next step's row. */
  public void setting(String key, double value) {
    pendingSetting =
        (pendingSetting.isEmpty() ? "" : pendingSetting + ";") + key + "=" + fmt(value);
  }

  /** A step's loss terms per image and the seconds into its epoch. */
  public void step(long step, int epoch, Map<String, Double> terms, double secondsIntoEpoch) {
    writePending();
    pending = new PendingRow(step, epoch, terms, secondsIntoEpoch, pendingSetting);
    pendingSetting = "";
  }

  /**
   * Diagnostics measured after the latest step go on its row; those before the first step are not
   * kept.
   */
  public void diagnostics(int activeUnits, double topKFraction) {
    if (pending != null) {
      pending.activeUnits = Integer.toString(activeUnits);
      pending.topKFraction = fmt(topKFraction);
    }
  }

  /** An alarm's code, on the latest step's row. */
  public void warning(String code) {
    if (pending != null) {
      pending.warning = pending.warning.isEmpty() ? code : pending.warning + ";" + code;
    }
  }

  /** The epoch's test loss goes on the row of its last step. */
  public void epoch(double testLoss) {
    if (pending != null) {
      pending.test = fmt(testLoss);
    }
    writePending();
    flush();
  }

  private void writePending() {
    if (pending == null) {
      return;
    }
    PendingRow r = pending;
    pending = null;
    buffer
        .append(r.step)
        .append(',')
        .append(r.epoch)
        .append(',')
        .append(
            String.join(
                ",", terms.stream().map(t -> fmt(r.terms.getOrDefault(t, Double.NaN))).toList()))
        .append(',')
        .append(r.test)
        .append(',')
        .append(String.format(Locale.ROOT, "%.3f", r.seconds))
        .append(',')
        .append(r.setting)
        .append(',')
        .append(r.activeUnits)
        .append(',')
        .append(r.topKFraction)
        .append(',')
        .append(r.warning)
        .append('\n');
    long now = System.nanoTime();
    if (now - lastFlush > 1_000_000_000L) {
      flush();
      lastFlush = now;
    }
  }

  /**
   * Appends the rows written so far. A write that fails (a full disk) is cut back to the last whole
   * row, so the file never ends in half a row, and the rows that did not fit are dropped with the
   * exception: a run that fails there resumes from a checkpoint before them (see {@link #commit}).
   */
  private void flush() {
    if (buffer.isEmpty() || out == null) {
      return;
    }
    ByteBuffer bytes = ByteBuffer.wrap(buffer.toString().getBytes(StandardCharsets.UTF_8));
    buffer.setLength(0);
    try {
      fence.commit(
          () -> {
            out.position(committed);
            AtomicFile.writeFully(out, bytes);
            committed += bytes.capacity();
          });
    } catch (IOException e) {
      try {
        out.truncate(committed);
      } catch (IOException alsoFailed) {
        e.addSuppressed(alsoFailed);
      }
      throw AtomicFile.cannotWrite(file, e);
    }
  }

  /**
   * Every row so far on the disk, the latest step's too: called before a checkpoint, so a run
   * resumed from it finds each of its steps here.
   */
  public void commit() {
    writePending();
    flush();
    try {
      if (out != null) {
        out.force(false);
      }
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(file, e);
    }
  }

  static String fmt(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }

  @Override
  public void close() {
    if (out != null) {
      try {
        writePending();
        flush();
      } finally {
        try {
          out.close();
        } catch (IOException e) {
          throw AtomicFile.cannotWrite(file, e);
        } finally {
          out = null;
        }
      }
    }
  }

  /**
   * A live change recorded on a row: {@code key} was set to {@code value} before the row's step.
   */
  public record Setting(String key, double value) {}

  /**
   * One row: the step's loss terms per image, the test loss (NaN except on an epoch's last step),
   * the seconds into the epoch and the live changes made before the step. {@code cells} holds every
   * column by name, as written (empty for a blank cell).
   */
  public record Row(
      long step,
      int epoch,
      Map<String, Double> terms,
      double testLoss,
      double seconds,
      List<Setting> settings,
      Map<String, String> cells) {}

  /**
   * The whole file: its column names, the loss terms among them and the complete rows in step
   * order.
   */
  public record Table(List<String> columns, List<String> lossTerms, List<Row> rows) {

    /**
     * Column by column: a {@code Double} per numeric cell, a {@code String} per text cell ({@code
     * setting}), null for a blank cell.
     */
    public Map<String, List<Object>> byColumn() {
      Map<String, List<Object>> out = new LinkedHashMap<>();
      for (String c : columns) {
        List<Object> values = new ArrayList<>(rows.size());
        for (Row r : rows) {
          String cell = r.cells().getOrDefault(c, "");
          values.add(
              cell.isEmpty()
                  ? null
                  : TEXT_COLUMNS.contains(c) ? cell : (Object) Double.parseDouble(cell));
        }
        out.put(c, Collections.unmodifiableList(values));
      }
      return out;
    }
  }

  /**
   * Reads a {@code metrics.csv}. A last row cut short (the one being written, or by a {@code kill
   * -9} in the middle of a write) is left out.
   *
   * @throws IOException when the file cannot be read, is not a metrics file, or is damaged before
   *     its last row
   */
  public static Table read(Path file) throws IOException {
    return parse(file.getFileName().toString(), Files.readAllBytes(file));
  }

  /**
   * Reads a {@code metrics.csv} from its bytes (e.g. relayed from another node), like {@link
   * #read(Path)}.
   *
   * @throws IOException when the bytes are not a metrics file
   */
  public static Table parse(byte[] utf8) throws IOException {
    return parse(FILE, utf8);
  }

  /** The header's cells and every whole row's, as {@link #wholeLines} finds them. */
  private record Lines(String[] header, List<String[]> rows) {}

  /**
   * The header and the whole rows of a metrics file. Rows are appended by one writer, so only the
   * last line can be cut short, by a process killed in the middle of a write: a last line without
   * its newline, or with too few or too many cells, is dropped. A row like that anywhere else, or a
   * step or epoch that is not a whole number, is damage no crash leaves, and is refused.
   */
  private static Lines wholeLines(String fileName, byte[] utf8) throws IOException {
    String text = new String(utf8, StandardCharsets.UTF_8);
    int end = text.lastIndexOf('\n') + 1; // what follows the last newline was cut short
    List<String> lines = text.substring(0, end).lines().toList();
    if (lines.isEmpty() || !lines.getFirst().startsWith("step,epoch,")) {
      throw new IOException(fileName + " is not a metrics file (no header)");
    }
    String[] header = lines.getFirst().split(",", -1);
    List<String[]> rows = new ArrayList<>(lines.size());
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      String[] cells = line.split(",", -1);
      boolean last = i == lines.size() - 1;
      if (cells.length != header.length) {
        if (last) {
          continue;
        }
        throw new IOException(
            fileName
                + " is damaged at line "
                + (i + 1)
                + ": "
                + cells.length
                + " cells where the header has "
                + header.length);
      }
      try {
        Long.parseLong(cells[0]);
        Integer.parseInt(cells[1]);
      } catch (NumberFormatException e) {
        throw new IOException(
            fileName + " is damaged at line " + (i + 1) + ": not a step and epoch", e);
      }
      rows.add(cells);
    }
    return new Lines(header, rows);
  }

  private static Table parse(String fileName, byte[] utf8) throws IOException {
    Lines lines = wholeLines(fileName, utf8);
    List<String> columns = List.of(lines.header());
    int testAt = columns.indexOf("test_loss");
    if (testAt < 2) {
      throw new IOException(fileName + " is not a metrics file (no test_loss column)");
    }
    List<String> lossTerms = columns.subList(2, testAt);
    List<Row> rows = new ArrayList<>(lines.rows().size());
    for (String[] f : lines.rows()) {
      try {
        Map<String, String> cells = new LinkedHashMap<>();
        for (int i = 0; i < f.length; i++) {
          cells.put(columns.get(i), f[i]);
        }
        Map<String, Double> terms = new LinkedHashMap<>();
        for (String t : lossTerms) {
          String v = cells.get(t);
          if (!v.isEmpty()) {
            terms.put(t, Double.parseDouble(v));
          }
        }
        List<Setting> settings = new ArrayList<>();
        for (String change : cells.getOrDefault("setting", "").split(";")) {
          int eq = change.indexOf('=');
          if (eq > 0) {
            settings.add(
                new Setting(change.substring(0, eq), Double.parseDouble(change.substring(eq + 1))));
          }
        }
        rows.add(
            new Row(
                Long.parseLong(f[0]),
                Integer.parseInt(f[1]),
                Collections.unmodifiableMap(terms),
                number(cells.get("test_loss")),
                number(cells.getOrDefault("seconds", "")),
                List.copyOf(settings),
                Collections.unmodifiableMap(cells)));
      } catch (NumberFormatException e) {
        throw new IOException(fileName + ": not a number in row '" + String.join(",", f) + "'", e);
      }
    }
    return new Table(columns, lossTerms, List.copyOf(rows));
  }

  private static double number(String cell) {
    return cell == null || cell.isEmpty() ? Double.NaN : Double.parseDouble(cell);
  }
}
