package dev.latentstream.rundir;

import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.train.StepMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code loss.png}: the training terms per step (decimated to at most {@link #MAX_POINTS} per
 * series with min/max buckets, so spikes survive) and the test loss per epoch, drawn with XChart.
 */
final class LossPlot {

  static final int MAX_POINTS = 2000;

  private final Map<String, List<double[]>> series = new LinkedHashMap<>();
  private final List<double[]> test = new ArrayList<>();

  void add(StepMetrics m) {
    m.terms()
        .forEach(
            (k, v) ->
                series.computeIfAbsent(k, x -> new ArrayList<>()).add(new double[] {m.step(), v}));
  }

  void addTest(long step, double loss) {
    test.add(new double[] {step, loss});
  }

  void write(Path file, String title) {
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(520)
            .title(title)
            .xAxisTitle("step")
            .yAxisTitle("loss per image")
            .build();
    chart.getStyler().setMarkerSize(4);
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
    chart.getStyler().setYAxisLogarithmic(allPositive());
    series.forEach(
        (name, points) -> {
          List<double[]> d = decimate(points, MAX_POINTS);
          XYSeries s =
              chart.addSeries(
                  "train " + name,
                  d.stream().map(p -> p[0]).toList(),
                  d.stream().map(p -> p[1]).toList());
          s.setMarker(SeriesMarkers.NONE);
        });
    if (!test.isEmpty()) {
      XYSeries s =
          chart.addSeries(
              "test loss",
              test.stream().map(p -> p[0]).toList(),
              test.stream().map(p -> p[1]).toList());
      s.setMarker(SeriesMarkers.CIRCLE);
    }
    if (series.isEmpty()) {
      return;
    }
    byte[] png;
    try {
      png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw " + file + ": " + e.getMessage(), e);
    }
    AtomicFile.write(file, png);
  }

  private boolean allPositive() {
    return series.values().stream().flatMap(List::stream).allMatch(p -> p[1] > 0)
        && test.stream().allMatch(p -> p[1] > 0);
  }

  /** Keeps each bucket's minimum and maximum, in step order. */
  static List<double[]> decimate(List<double[]> points, int max) {
    if (points.size() <= max) {
      return points;
    }
    int buckets = max / 2;
    List<double[]> out = new ArrayList<>(max);
    for (int b = 0; b < buckets; b++) {
      int from = (int) ((long) b * points.size() / buckets);
      int to = (int) ((long) (b + 1) * points.size() / buckets);
      double[] lo = points.get(from);
      double[] hi = points.get(from);
      for (int i = from; i < to; i++) {
        double[] p = points.get(i);
        if (p[1] < lo[1]) {
          lo = p;
        }
        if (p[1] > hi[1]) {
          hi = p;
        }
      }
      if (lo[0] <= hi[0]) {
        out.add(lo);
        if (hi != lo) {
          out.add(hi);
        }
      } else {
        out.add(hi);
        out.add(lo);
      }
    }
    return out;
  }
}
