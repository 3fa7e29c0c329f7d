package dev.latentstream.stream;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Loss points in columnar form ({@code {step: [...], epoch: [...], recon: [...], ...}}), append-only. */
final class Columns {

  private final Map<String, double[]> columns = new LinkedHashMap<>();
  private int size;

  void add(JsonObject step) {
    put("step", step.getLong("step"));
    put("epoch", step.getInteger("epoch"));
    put("time", step.getLong("time", 0L));
    JsonObject terms = step.getJsonObject("terms");
    for (String t : terms.fieldNames()) {
      put(t, terms.getDouble(t));
    }
    size++;
    for (double[] c : columns.values()) {
      // a term missing from this step (never expected) stays NaN rather than shifting the column
      if (c.length < size) {
        throw new IllegalStateException("column shorter than row count");
      }
    }
  }

  private void put(String name, double v) {
    double[] c = columns.computeIfAbsent(name, k -> {
      double[] fresh = new double[Math.max(64, size * 2)];
      Arrays.fill(fresh, Double.NaN);
      return fresh;
    });
    if (size >= c.length) {
      double[] grown = Arrays.copyOf(c, c.length * 2);
      Arrays.fill(grown, c.length, grown.length, Double.NaN);
      columns.put(name, grown);
      c = grown;
    }
    c[size] = v;
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
        if (name.equals("step") || name.equals("epoch") || name.equals("time")) {
          a.add((long) v);
        } else {
          a.add(Double.isNaN(v) ? null : v);
        }
      }
      out.put(name, a);
    });
    return out;
  }
}
