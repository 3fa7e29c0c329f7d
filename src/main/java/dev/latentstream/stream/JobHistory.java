package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a late joiner gets of one job: the loss columns, test losses, settings and kept frames, and
 * the {@code history} message built from them, encoded once for every newcomer. Live events append;
 * what an earlier run left in the run directory is put in front once ({@link #prepend}).
 *
 * <p>Threads: one per job per event loop. Each {@link StreamHub} (one per HTTP verticle instance)
 * keeps its own, and only that hub's event loop calls it. The one piece of work off that loop is
 * building a {@link HistorySnapshot} on a worker, from a {@link Columns.View} whose rows never
 * change.
 */
final class JobHistory {

  private final int num;
  private final String id;
  private Columns loss = new Columns();
  private JsonArray testEpochs = new JsonArray();
  private JsonArray testSteps = new JsonArray();
  private JsonArray testLosses = new JsonArray();
  private JsonArray settings = new JsonArray();
  private final Map<FrameKind, FrameMessage> latest = new EnumMap<>(FrameKind.class);
  private final Map<FrameKind, ArrayDeque<FrameMessage>> frames = new EnumMap<>(FrameKind.class);

  /** The latest snapshot (null before the first); a newer one is being built while true. */
  private HistorySnapshot snapshot;

  private boolean building;

  /** The history message of {@link #encodedFor}, with the test and setting counts it holds. */
  private Encoded historyMessage;

  private HistorySnapshot encodedFor;
  private int encodedTests = -1;
  private int encodedSettings = -1;

  JobHistory(int num, String id) {
    this.num = num;
    this.id = id;
  }

  void addStep(long step, int epoch, long timeMillis, Map<String, Double> terms) {
    loss.add(step, epoch, timeMillis, terms);
  }

  boolean hasLoss() {
    return !loss.isEmpty();
  }

  /** The step of the first loss point held, or -1 when there is none. */
  long firstStep() {
    return loss.firstStep();
  }

  /** The step of the last loss point held, or -1 when there is none. */
  long lastStep() {
    return loss.lastStep();
  }

  void addTest(int epoch, long step, double testLoss) {
    testEpochs.add(epoch);
    testSteps.add(step);
    testLosses.add(testLoss);
  }

  void addSetting(long step, int epoch, String key, double value) {
    settings.add(
        new JsonObject().put("step", step).put("epoch", epoch).put("key", key).put("value", value));
  }

  void addFrame(FrameMessage m, int keep) {
    latest.put(m.frame().kind(), m);
    ArrayDeque<FrameMessage> h = frames.computeIfAbsent(m.frame().kind(), k -> new ArrayDeque<>());
    h.addLast(m);
    while (h.size() > keep) {
      h.removeFirst();
    }
  }

  /** Puts {@code past} (everything before this history's first event) in front of it. */
  void prepend(JobHistory past, int keepFrames) {
    past.loss.addAll(loss);
    loss = past.loss;
    testEpochs = past.testEpochs.addAll(testEpochs);
    testSteps = past.testSteps.addAll(testSteps);
    testLosses = past.testLosses.addAll(testLosses);
    settings = past.settings.addAll(settings);
    past.frames.forEach(
        (kind, earlier) -> {
          ArrayDeque<FrameMessage> h = frames.computeIfAbsent(kind, k -> new ArrayDeque<>());
          earlier.descendingIterator().forEachRemaining(h::addFirst);
          while (h.size() > keepFrames) {
            h.removeFirst();
          }
          latest.putIfAbsent(kind, earlier.getLast());
        });
  }

  /** The latest frame of {@code kind}, or null. */
  FrameMessage latest(FrameKind kind) {
    return latest.get(kind);
  }

  /**
   * The kept frame of {@code kind} nearest at or before {@code step}, or null when every kept one
   * is later.
   */
  FrameMessage frameAt(FrameKind kind, long step) {
    ArrayDeque<FrameMessage> h = frames.get(kind);
    FrameMessage best = null;
    if (h != null) {
      for (FrameMessage m : h) {
        if (m.frame().step() <= step) {
          best = m;
        }
      }
    }
    return best;
  }

  /** Steps of the kept frames, per kind, for scrubbing. */
  JsonObject frameIndex() {
    JsonObject out = new JsonObject();
    frames.forEach(
        (kind, h) -> {
          List<Long> steps = new ArrayList<>();
          h.forEach(m -> steps.add(m.frame().step()));
          out.put(kind.wireName(), new JsonArray(steps));
        });
    return out;
  }

  /** The cached snapshot when it serves a newcomer now (see {@link HistorySnapshot#serves}). */
  HistorySnapshot servingSnapshot() {
    return snapshot != null && snapshot.serves(loss) ? snapshot : null;
  }

  /** A snapshot is being built on a worker; whoever waits is served when it is done. */
  boolean building() {
    return building;
  }

  /**
   * Builds a snapshot of the loss columns on a worker. Null when the columns were replaced (past
   * rows put in front) while it was built: it serves nobody, and another is needed.
   */
  Future<HistorySnapshot> buildSnapshot(Vertx vertx) {
    Columns.View view = loss.view();
    building = true;
    return vertx
        .executeBlocking(() -> HistorySnapshot.build(view), false)
        .andThen(ar -> building = false)
        .map(snap -> snap.columns() == loss ? (snapshot = snap) : null);
  }

  /**
   * What a newcomer is sent for {@code snap}: the history message, then the rows after the snapshot
   * as one {@code loss} message (the tail). The history message is cached until the snapshot, the
   * test losses or the settings change, so every newcomer shares its bytes.
   */
  List<Encoded> messages(HistorySnapshot snap) {
    List<Encoded> out = new ArrayList<>(2);
    out.add(historyMessage(snap));
    int rows = loss.size();
    if (rows > snap.rows()) {
      out.add(Encoded.of(new ServerMessage.Loss(num, loss.view().rows(snap.rows(), rows))));
    }
    return out;
  }

  private Encoded historyMessage(HistorySnapshot snap) {
    if (historyMessage == null
        || snap != encodedFor
        || testLosses.size() != encodedTests
        || settings.size() != encodedSettings) {
      String test =
          new JsonObject()
              .put("epoch", testEpochs)
              .put("step", testSteps)
              .put("loss", testLosses)
              .encode();
      // The columns are already JSON (encoded on a worker): spliced in rather than parsed back.
      // The field order is History's.
      String head =
          new ServerMessage.History(num, id, new JsonObject(), new JsonObject(), new JsonArray())
              .toJson()
              .encode();
      String json =
          head.substring(0, head.indexOf("\"columns\":") + "\"columns\":".length())
              + snap.columnsJson()
              + ",\"test\":"
              + test
              + ",\"settings\":"
              + settings.encode()
              + "}";
      historyMessage = Encoded.of(json);
      encodedFor = snap;
      encodedTests = testLosses.size();
      encodedSettings = settings.size();
    }
    return historyMessage;
  }
}
