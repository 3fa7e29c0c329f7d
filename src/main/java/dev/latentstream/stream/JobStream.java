package dev.latentstream.stream;

import dev.latentstream.server.FrameMessage;
import dev.latentstream.train.FrameKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** What the hub keeps of one job for late joiners: the loss history, test losses, settings and frames. */
final class JobStream {

  final int num;
  JsonObject status;
  final Columns loss = new Columns();
  /** Points since the last flush, sent to every loss subscriber as one shared message. */
  Columns pendingLoss = new Columns();
  final JsonObject test = new JsonObject().put("epoch", new JsonArray()).put("step", new JsonArray())
      .put("loss", new JsonArray());
  final JsonArray settings = new JsonArray();
  final Map<FrameKind, FrameMessage> latest = new EnumMap<>(FrameKind.class);
  final Map<FrameKind, ArrayDeque<FrameMessage>> history = new EnumMap<>(FrameKind.class);
  float[] plane;
  long planeStep;
  boolean loadedFromDisk;

  JobStream(int num, JsonObject status) {
    this.num = num;
    this.status = status;
  }

  String id() {
    return status.getString("id");
  }

  void addFrame(FrameMessage m, int keep) {
    latest.put(m.frame().kind(), m);
    ArrayDeque<FrameMessage> h = history.computeIfAbsent(m.frame().kind(), k -> new ArrayDeque<>());
    h.addLast(m);
    while (h.size() > keep) {
      h.removeFirst();
    }
    if (m.frame().plane() != null) {
      plane = m.frame().plane();
      planeStep = m.frame().step();
    }
  }

  void addTest(int epoch, long step, double loss) {
    test.getJsonArray("epoch").add(epoch);
    test.getJsonArray("step").add(step);
    test.getJsonArray("loss").add(loss);
  }

  /** The frame of {@code kind} nearest at or before {@code step} (the oldest kept when all are later). */
  FrameMessage frameAt(FrameKind kind, long step) {
    ArrayDeque<FrameMessage> h = history.get(kind);
    if (h == null || h.isEmpty()) {
      return null;
    }
    FrameMessage best = h.getFirst();
    for (FrameMessage m : h) {
      if (m.frame().step() <= step) {
        best = m;
      }
    }
    return best;
  }

  /** Steps of the kept frames, per kind, for scrubbing. */
  JsonObject frameIndex() {
    JsonObject out = new JsonObject();
    history.forEach((kind, h) -> {
      List<Long> steps = new ArrayList<>();
      h.forEach(m -> steps.add(m.frame().step()));
      out.put(kind.wireName(), new JsonArray(steps));
    });
    return out;
  }

  JsonObject historyMessage() {
    return new JsonObject().put("type", "history").put("job", num).put("id", id()).put("columns", loss.toJson())
        .put("test", test.copy()).put("settings", settings.copy());
  }

  JsonObject planeMessage() {
    return plane == null ? null : new JsonObject().put("type", "plane").put("job", num).put("step", planeStep)
        .put("range", new JsonArray().add(plane[0]).add(plane[1]).add(plane[2]).add(plane[3]));
  }
}
