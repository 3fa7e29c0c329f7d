package dev.latentstream.rundir;

import dev.latentstream.runformat.MetricsCsv;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A headless sweep's comparison, written beside its members' run directories: {@code sweep.csv}
 * (one row per member: its values, status, final test loss, IWAE, active units, seconds), {@code
 * compare-loss.png} (every member's test loss per epoch on one XChart plot, as {@code loss.png}
 * draws one run) and {@code compare-samples.png} (one row per member: its last epoch's samples,
 * labelled). The sole owner of these files.
 */
public final class SweepReport {

  public static final String CSV = "sweep.csv";
  public static final String LOSS_PNG = "compare-loss.png";
  public static final String SAMPLES_PNG = "compare-samples.png";

  /**
   * One member's row; {@code values} in the grid's key order, NaN / -1 where there is no figure.
   */
  public record Row(
      String name,
      List<String> values,
      String status,
      double testLoss,
      double iwae,
      int activeUnits,
      double seconds,
      Path runDir) {}

  private SweepReport() {}

  public static void writeCsv(Path dir, List<String> keys, List<Row> rows) {
    StringBuilder b = new StringBuilder("name");
    keys.forEach(k -> b.append(',').append(k));
    b.append(",status,test_loss,iwae,active_units,seconds\n");
    for (Row r : rows) {
      b.append(r.name());
      r.values()
          .forEach(
              v -> b.append(',').append(v.contains(",") ? '"' + v.replace("\"", "\"\"") + '"' : v));
      b.append(',')
          .append(r.status())
          .append(',')
          .append(num(r.testLoss()))
          .append(',')
          .append(num(r.iwae()))
          .append(',')
          .append(r.activeUnits() < 0 ? "" : Integer.toString(r.activeUnits()))
          .append(',')
          .append(num(r.seconds()))
          .append('\n');
    }
    write(dir.resolve(CSV), b.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Every member's test loss per epoch, read from its {@code metrics.csv}; members without one are
   * left out.
   */
  public static void writeLossPlot(Path dir, List<Row> rows) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(520)
            .title("test loss per member")
            .xAxisTitle("epoch")
            .yAxisTitle("test loss per image")
            .build();
    chart.getStyler().setMarkerSize(5);
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
    boolean positive = true;
    for (Row r : rows) {
      Path csv = r.runDir().resolve(MetricsCsv.FILE);
      if (!Files.isRegularFile(csv)) {
        continue;
      }
      List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
      for (MetricsCsv.Row m : MetricsCsv.read(csv).rows()) {
        if (Double.isFinite(m.testLoss())) {
          xs.add((double) m.epoch());
          ys.add(m.testLoss());
          positive &= m.testLoss() > 0;
        }
      }
      if (!xs.isEmpty()) {
        XYSeries s = chart.addSeries(String.join(" ", r.values()) + " (" + r.name() + ")", xs, ys);
        s.setMarker(SeriesMarkers.CIRCLE);
      }
    }
    if (chart.getSeriesMap().isEmpty()) {
      return;
    }
    chart.getStyler().setYAxisLogarithmic(positive);
    Path file = dir.resolve(LOSS_PNG);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp.png");
    BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** One row per member with samples: a label, then its last epoch's {@code sampled-E.png}. */
  public static void writeSamples(Path dir, List<Row> rows) throws IOException {
    List<String> labels = new ArrayList<>();
    List<BufferedImage> images = new ArrayList<>();
    for (Row r : rows) {
      Path last = lastSamples(r.runDir());
      if (last != null) {
        labels.add(String.join(" ", r.values()));
        images.add(ImageIO.read(last.toFile()));
      }
    }
    if (images.isEmpty()) {
      return;
    }
    int labelWidth = 180, gap = 4;
    int width = labelWidth + images.stream().mapToInt(BufferedImage::getWidth).max().orElse(0);
    int height = images.stream().mapToInt(i -> i.getHeight() + gap).sum();
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    int y = 0;
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = images.get(i);
      g.setColor(Color.BLACK);
      g.drawString(labels.get(i), 6, y + img.getHeight() / 2 + 5);
      g.drawImage(img, labelWidth, y, null);
      y += img.getHeight() + gap;
    }
    g.dispose();
    Path file = dir.resolve(SAMPLES_PNG);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp.png");
    ImageIO.write(out, "png", tmp.toFile());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The samples image of the run's highest epoch, or null. */
  static Path lastSamples(Path runDir) throws IOException {
    if (!Files.isDirectory(runDir)) {
      return null;
    }
    try (var files = Files.list(runDir)) {
      return files
          .filter(p -> p.getFileName().toString().matches("sampled-[0-9]+\\.png"))
          .max(
              java.util.Comparator.comparingInt(
                  p -> Integer.parseInt(p.getFileName().toString().replaceAll("\\D", ""))))
          .orElse(null);
    }
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "";
  }

  private static void write(Path file, byte[] bytes) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, bytes);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
