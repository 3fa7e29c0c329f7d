package dev.latentstream.stream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loss points in columnar form ({@code {step: [...], epoch: [...], time: [...], recon: [...], ...}}),
 * append-only. A value missing from a row is NaN in memory and {@code null} in JSON.
 */
final class Columns {

  /** Columns every batch has, even an empty one, in this order; then the model's terms. */
  private static final List<String> WHOLE_ORDER = List.of("step", "epoch", "time");
  private static final Set<String> WHOLE = Set.copyOf(WHOLE_ORDER);

  private final Map<String, double[]> columns = new LinkedHashMap<>();
  private int size;

  Columns() {
    WHOLE_ORDER.forEach(name -> columns.put(name, nans(64)));
  }

  /** {@code timeMillis} below 0: unknown (points read back from a run directory). */
  void add(long step, int epoch, long timeMillis, Map<String, Double> terms) {
    put("step", step);
    put("epoch", epoch);
    put("time", timeMillis < 0 ? Double.NaN : timeMillis);
    terms.forEach(this::put);
    size++;
  }

  /** Appends every row of {@code other}. */
  void addAll(Columns other) {
    for (int r = 0; r < other.size; r++) {
      for (Map.Entry<String, double[]> c : other.columns.entrySet()) {
        put(c.getKey(), c.getValue()[r]);
      }
      size++;
    }
  }

  /** The step of the first row, or -1 when empty. */
  long firstStep() {
    return size == 0 ? -1 : (long) columns.get("step")[0];
  }

  private void put(String name, double v) {
    double[] c = columns.computeIfAbsent(name, k -> nans(Math.max(64, size * 2)));
    if (size >= c.length) {
      double[] grown = Arrays.copyOf(c, c.length * 2);
      Arrays.fill(grown, c.length, grown.length, Double.NaN);
      columns.put(name, grown);
      c = grown;
    }
    c[size] = v;
  }

  private static double[] nans(int n) {
    double[] a = new double[n];
    Arrays.fill(a, Double.NaN);
    return a;
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  JsonObject toJson() {
    JsonObject out = new JsonObject();
    columns.forEach((name, values) -> {
      JsonArray a = new JsonArray();
      for (int i = 0; i < size; i++) {
        double v = values[i];
        if (Double.isNaN(v)) {
          a.addNull();
        } else if (WHOLE.contains(name)) {
          a.add((long) v);
        } else {
          a.add(v);
        }
      }
      out.put(name, a);
    });
    return out;
  }
}
