package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Loss columns and the decimated history a newcomer gets. */
class ColumnsTest {

  static Columns rows(int n) {
    Columns c = new Columns();
    for (int i = 1; i <= n; i++) {
      double loss = i == 7_777 ? 1e6 : i == 3_333 ? -5 : 100.0 / i;
      c.add(i, 1 + i / 100, 1_000L + i, Map.of("loss", loss));
    }
    return c;
  }

  @Test
  void termsGoOutInTheirFloatFormAndWholeColumnsAsIntegers() {
    Columns c = new Columns();
    c.add(12_345, 3, 1_764_000_000_123L, Map.of("loss", (double) 245.58934f, "kl", 1.0 / 3));
    String json = c.toJson().encode();
    assertTrue(json.contains("\"loss\":[245.58934]"), json);
    assertTrue(json.contains("\"kl\":[0.33333334]"), json);
    assertTrue(
        json.contains("\"step\":[12345]") && json.contains("\"time\":[1764000000123]"), json);
  }

  @Test
  void aShortHistoryIsSentWhole() {
    JsonObject j = rows(100).view().decimated(HistorySnapshot.MAX_POINTS);
    assertEquals(100, j.getJsonArray("step").size());
    assertEquals(rows(100).toJson(), j);
  }

  @Test
  void aLongHistoryKeepsAtMost4096PointsItsSpikesItsOrderAndItsLastRow() {
    JsonObject j = rows(100_000).view().decimated(HistorySnapshot.MAX_POINTS);
    JsonArray steps = j.getJsonArray("step");
    JsonArray loss = j.getJsonArray("loss");
    assertEquals(HistorySnapshot.MAX_POINTS, steps.size());
    for (String column : j.fieldNames()) {
      assertEquals(steps.size(), j.getJsonArray(column).size(), column);
    }
    for (int i = 1; i < steps.size(); i++) {
      assertTrue(steps.getLong(i) > steps.getLong(i - 1), "steps strictly increase at " + i);
    }
    assertEquals(1L, steps.getLong(0));
    assertEquals(
        100_000L, steps.getLong(steps.size() - 1), "the last row, where live points continue");
    assertTrue(loss.contains(1e6f), "the spike up survives");
    assertTrue(loss.contains(-5.0f), "the spike down survives");
    assertEquals(
        1_000L + 100_000,
        j.getJsonArray("time").getLong(steps.size() - 1),
        "whole columns keep their rows");
  }

  @Test
  void aViewIsUnchangedByRowsAddedAfterIt() {
    Columns c = rows(60);
    Columns.View v = c.view();
    for (int i = 61; i <= 500; i++) {
      c.add(i, 1, -1, Map.of("loss", 1.0, "kl", 2.0));
    }
    JsonObject j = v.rows(0, v.size());
    assertEquals(60, j.getJsonArray("step").size());
    assertTrue(!j.containsKey("kl"), "a column that came later is not in it");
    assertEquals(440, c.view().rows(60, 500).getJsonArray("kl").size(), "the tail after it");
  }
}
