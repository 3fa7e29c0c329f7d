package dev.latentstream.stream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loss points in columnar form ({@code {step: [...], epoch: [...], time: [...], recon: [...],
 * ...}}), append-only. A value missing from a row is NaN in memory and {@code null} in JSON; terms
 * are written with float precision.
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

  /** The step of the last row, or -1 when empty. */
  long lastStep() {
    return size == 0 ? -1 : (long) columns.get("step")[size - 1];
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
    return view().rows(0, size);
  }

  /**
   * The rows so far, for reading on another thread: the arrays are shared, not copied. That is safe
   * because a row, once written, never changes (growing copies into a new array), so what a view
   * covers stays as it was while this stream goes on appending.
   */
  View view() {
    List<String> names = List.copyOf(columns.keySet());
    double[][] arrays = names.stream().map(columns::get).toArray(double[][]::new);
    return new View(this, names, arrays, size);
  }

  /** Rows {@code [0, size)} of {@code source}'s columns, as they were when the view was taken. */
  record View(Columns source, List<String> names, double[][] arrays, int size) {

    /** Rows {@code [from, to)} in the columnar JSON form. */
    JsonObject rows(int from, int to) {
      int[] all = new int[to - from];
      for (int i = 0; i < all.length; i++) {
        all[i] = from + i;
      }
      return toJson(all, null);
    }

    /**
     * At most {@code maxPoints} rows for display (uPlot-style min/max decimation): all rows when
     * they fit; otherwise the rows fall into {@code maxPoints / 2} buckets of consecutive steps,
     * and each bucket gives two points, at its first and its last step, carrying each term's
     * minimum and maximum over the bucket in the order they occurred. So every spike stays visible,
     * steps stay strictly increasing, and the last point is the last row (live points continue from
     * it).
     */
    JsonObject decimated(int maxPoints) {
      if (size <= maxPoints) {
        return rows(0, size);
      }
      int buckets = maxPoints / 2;
      int[] picked = new int[2 * buckets];
      double[][] values = new double[arrays.length][2 * buckets];
      for (int b = 0; b < buckets; b++) {
        int start = (int) ((long) b * size / buckets);
        int end = (int) ((long) (b + 1) * size / buckets);
        picked[2 * b] = start;
        picked[2 * b + 1] = end - 1;
        for (int c = 0; c < arrays.length; c++) {
          double[] a = arrays[c];
          int argMin = -1;
          int argMax = -1;
          for (int r = start; r < end; r++) {
            if (!Double.isNaN(a[r])) {
              if (argMin < 0 || a[r] < a[argMin]) {
                argMin = r;
              }
              if (argMax < 0 || a[r] > a[argMax]) {
                argMax = r;
              }
            }
          }
          boolean minFirst = argMin <= argMax;
          values[c][2 * b] = argMin < 0 ? Double.NaN : a[minFirst ? argMin : argMax];
          values[c][2 * b + 1] = argMin < 0 ? Double.NaN : a[minFirst ? argMax : argMin];
        }
      }
      return toJson(picked, values);
    }

    /**
     * The given rows; a term's value from {@code values} (by column, then output row) when given.
     */
    private JsonObject toJson(int[] rowIndex, double[][] values) {
      JsonObject out = new JsonObject();
      for (int c = 0; c < names.size(); c++) {
        String name = names.get(c);
        boolean whole = WHOLE.contains(name);
        JsonArray a = new JsonArray(new java.util.ArrayList<>(rowIndex.length));
        for (int i = 0; i < rowIndex.length; i++) {
          double v = whole || values == null ? arrays[c][rowIndex[i]] : values[c][i];
          if (Double.isNaN(v)) {
            a.addNull();
          } else if (whole) {
            a.add((long) v);
          } else {
            // A term is a float32 sum: its shortest float form (about 9 characters) says all it
            // knows, where
            // the double's carried 17. A third less per loss point, which a crowd's byte share then
            // spends on frames.
            a.add((float) v);
          }
        }
        out.put(name, a);
      }
      return out;
    }
  }
}
