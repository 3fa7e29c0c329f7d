package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.train.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the hub keeps of one job for late joiners: the loss history, test losses, settings and frames.
 * Live events append; what an earlier run of the job left in its run directory is put in front once
 * ({@link #prepend}).
 */
final class JobStream {

  final int num;
  JsonObject status;
  Columns loss = new Columns();
  /** Points since the last flush, sent to every loss subscriber as one shared message. */
  Columns pendingLoss = new Columns();
  private JsonArray testEpochs = new JsonArray();
  private JsonArray testSteps = new JsonArray();
  private JsonArray testLosses = new JsonArray();
  private JsonArray settings = new JsonArray();
  final Map<FrameKind, FrameMessage> latest = new EnumMap<>(FrameKind.class);
  private final Map<FrameKind, ArrayDeque<FrameMessage>> history = new EnumMap<>(FrameKind.class);
  private float[] plane;
  private long planeStep;
  /** This stream began while the job was already stepping (a gateway started late): its past is on disk. */
  boolean joinedMidRun;
  /** Set once the run directory has been read (or found to hold nothing this stream lacks). */
  Future<Void> pastLoaded;

  JobStream(int num, JsonObject status) {
    this.num = num;
    this.status = status;
  }

  String id() {
    return status.getString("id");
  }

  String state() {
    return status.getString("status");
  }

  /** The checkpoint step this run continues from, or -1 for a fresh run. */
  long resumedAtStep() {
    return status.getLong("resumedAtStep", -1L);
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
    testEpochs.add(epoch);
    testSteps.add(step);
    testLosses.add(loss);
  }

  void addSetting(long step, int epoch, String key, double value) {
    settings.add(new JsonObject().put("step", step).put("epoch", epoch).put("key", key).put("value", value));
  }

  /** Puts {@code past} (everything before this stream's first event) in front of what this stream holds. */
  void prepend(JobStream past, int keepFrames) {
    past.loss.addAll(loss);
    loss = past.loss;
    testEpochs = past.testEpochs.addAll(testEpochs);
    testSteps = past.testSteps.addAll(testSteps);
    testLosses = past.testLosses.addAll(testLosses);
    settings = past.settings.addAll(settings);
    past.history.forEach((kind, earlier) -> {
      ArrayDeque<FrameMessage> h = history.computeIfAbsent(kind, k -> new ArrayDeque<>());
      earlier.descendingIterator().forEachRemaining(h::addFirst);
      while (h.size() > keepFrames) {
        h.removeFirst();
      }
      latest.putIfAbsent(kind, earlier.getLast());
    });
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

  ServerMessage.History history() {
    return new ServerMessage.History(num, id(), loss.toJson(), new JsonObject().put("epoch", testEpochs.copy())
        .put("step", testSteps.copy()).put("loss", testLosses.copy()), settings.copy());
  }

  /** The latest latent frame's plane range, or null before the first latent frame (and for frames read from disk). */
  ServerMessage.Plane plane() {
    return plane == null ? null : new ServerMessage.Plane(num, planeStep, plane);
  }
}
