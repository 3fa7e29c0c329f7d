package dev.latentstream.rundir;

import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.runformat.AtomicFile;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * {@code diagnostics-E.png}: the epoch's latent diagnostics as a bar per dimension (KL in nats, or
 * code variance), beside a heat map of the same values per dimension against step over the
 * diagnostics ticks seen so far, drawn with XChart. Runs on the trainer thread.
 */
final class DiagnosticsPlot {

  /** At most this many ticks become heat-map columns (evenly spaced, the latest always kept). */
  static final int MAX_COLUMNS = 120;

  private final List<Diagnostics> history = new ArrayList<>();

  void add(Diagnostics d) {
    history.add(d);
  }

  static String fileName(int epoch) {
    return "diagnostics-" + epoch + ".png";
  }

  void write(Path file, Diagnostics latest, String title) {
    double[] values = latest.values();
    boolean kl = latest.kind().equals(Diagnostics.KL);
    String what = kl ? "KL per dimension (nats)" : "code variance per dimension";
    CategoryChart bars =
        new CategoryChartBuilder()
            .width(520)
            .height(420)
            .title(
                title
                    + ": "
                    + latest.activeUnits()
                    + " of "
                    + values.length
                    + " active, top "
                    + latest.topK()
                    + " "
                    + String.format(java.util.Locale.ROOT, "%.0f%%", 100 * latest.topKFraction()))
            .xAxisTitle("latent dimension")
            .yAxisTitle(what)
            .build();
    bars.getStyler().setLegendVisible(false);
    bars.getStyler().setChartTitleFont(bars.getStyler().getChartTitleFont().deriveFont(12f));
    bars.addSeries(
        what,
        IntStream.range(0, values.length).boxed().toList(),
        java.util.Arrays.stream(values).boxed().toList());

    List<Diagnostics> ticks = columns();
    List<Long> steps = ticks.stream().map(Diagnostics::step).toList();
    List<Integer> dims = IntStream.range(0, values.length).boxed().toList();
    List<Number[]> cells = new ArrayList<>();
    double max = 0;
    for (int t = 0; t < ticks.size(); t++) {
      double[] v = ticks.get(t).values();
      for (int d = 0; d < Math.min(v.length, values.length); d++) {
        cells.add(new Number[] {t, d, v[d]});
        max = Math.max(max, v[d]);
      }
    }
    HeatMapChart heat =
        new HeatMapChartBuilder()
            .width(620)
            .height(420)
            .title(what + " against step")
            .xAxisTitle("step")
            .yAxisTitle("latent dimension")
            .build();
    heat.getStyler().setLegendVisible(true);
    heat.getStyler().setShowValue(false);
    heat.getStyler().setMin(0);
    heat.getStyler().setMax(max > 0 ? max : 1);
    heat.getStyler()
        .setRangeColors(
            new Color[] {new Color(0xf7fbff), new Color(0x6baed6), new Color(0x08306b)});
    heat.getStyler().setXAxisLabelRotation(90);
    heat.getStyler().setXAxisMaxLabelCount(12);
    heat.addSeries("values", steps, dims, cells);

    java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
    try {
      List<Chart<?, ?>> charts = List.of(bars, heat);
      BitmapEncoder.saveBitmap(charts, 1, 2, png, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw " + file + ": " + e.getMessage(), e);
    }
    AtomicFile.write(file, png.toByteArray());
  }

  private List<Diagnostics> columns() {
    int n = history.size();
    if (n <= MAX_COLUMNS) {
      return history;
    }
    List<Diagnostics> out = new ArrayList<>(MAX_COLUMNS);
    for (int i = 0; i < MAX_COLUMNS; i++) {
      out.add(history.get((int) ((long) i * (n - 1) / (MAX_COLUMNS - 1))));
    }
    return out;
  }
}
