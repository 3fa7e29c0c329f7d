package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the hub keeps of one job for late joiners: the loss history, test losses, settings and
 * frames. Live events append; what an earlier run of the job left in its run directory is put in
 * front once ({@link #prepend}).
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

  /** The latest latent frame with a plane range, and its {@code plane} message once encoded. */
  private Encoded planeMessage;

  private FrameMessage planeFrame;

  /**
   * The latest history snapshot (null before the first), and the one being built off the event
   * loop.
   */
  HistorySnapshot snapshot;

  Future<HistorySnapshot> building;

  /**
   * The history message of {@link #snapshot}, with the test losses and settings it was built with.
   */
  /**
   * Until when the trainer said it has no time for interactive requests (System.nanoTime), or 0.
   */
  long trainerBusyUntilNanos;

  private Encoded historyMessage;

  /** The snapshot {@link #historyMessage} was built from: a newer one needs a new message. */
  private HistorySnapshot historySnapshot;

  private int historyTests = -1;
  private int historySettings = -1;

  /**
   * The latest diagnostics, for a newcomer to the {@code diagnostics} stream; null before the
   * first.
   */
  Encoded diagnostics;

  /**
   * The run's warnings so far (the latest {@link #KEPT_WARNINGS}), for newcomers to the {@code
   * status} stream.
   */
  final java.util.ArrayDeque<Encoded> warnings = new java.util.ArrayDeque<>();

  static final int KEPT_WARNINGS = 50;

  /**
   * This stream began while the job was already stepping (a gateway started late): its past is on
   * disk.
   */
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
      planeFrame = m;
      planeMessage = null;
    }
  }

  void addTest(int epoch, long step, double loss) {
    testEpochs.add(epoch);
    testSteps.add(step);
    testLosses.add(loss);
  }

  void addSetting(long step, int epoch, String key, double value) {
    settings.add(
        new JsonObject().put("step", step).put("epoch", epoch).put("key", key).put("value", value));
  }

  /**
   * Puts {@code past} (everything before this stream's first event) in front of what this stream
   * holds.
   */
  void prepend(JobStream past, int keepFrames) {
    past.loss.addAll(loss);
    loss = past.loss;
    testEpochs = past.testEpochs.addAll(testEpochs);
    testSteps = past.testSteps.addAll(testSteps);
    testLosses = past.testLosses.addAll(testLosses);
    settings = past.settings.addAll(settings);
    past.history.forEach(
        (kind, earlier) -> {
          ArrayDeque<FrameMessage> h = history.computeIfAbsent(kind, k -> new ArrayDeque<>());
          earlier.descendingIterator().forEachRemaining(h::addFirst);
          while (h.size() > keepFrames) {
            h.removeFirst();
          }
          latest.putIfAbsent(kind, earlier.getLast());
        });
  }

  /**
   * The kept frame of {@code kind} nearest at or before {@code step}, or null when every kept one
   * is later.
   */
  FrameMessage frameAt(FrameKind kind, long step) {
    ArrayDeque<FrameMessage> h = history.get(kind);
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
    history.forEach(
        (kind, h) -> {
          List<Long> steps = new ArrayList<>();
          h.forEach(m -> steps.add(m.frame().step()));
          out.put(kind.wireName(), new JsonArray(steps));
        });
    return out;
  }

  /**
   * The history message for {@code snap}: its (decimated) loss columns, encoded once on a worker,
   * with the test losses and settings as they are now; cached until either changes, so every
   * newcomer shares it.
   */
  Encoded historyMessage(HistorySnapshot snap) {
    if (historyMessage == null
        || snap != historySnapshot
        || testLosses.size() != historyTests
        || settings.size() != historySettings) {
      String test =
          new JsonObject()
              .put("epoch", testEpochs)
              .put("step", testSteps)
              .put("loss", testLosses)
              .encode();
      // The columns are already JSON: spliced in rather than parsed back. The field order is
      // History's.
      String head =
          new ServerMessage.History(num, id(), new JsonObject(), new JsonObject(), new JsonArray())
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
      historySnapshot = snap;
      historyTests = testLosses.size();
      historySettings = settings.size();
    }
    return historyMessage;
  }

  /**
   * The {@code plane} message to send before {@code m}, encoded once; null for other frames and
   * frames from disk.
   */
  Encoded planeMessage(FrameMessage m) {
    if (m.frame().plane() == null) {
      return null;
    }
    Encoded e = m == planeFrame ? planeMessage : null;
    if (e == null) {
      e =
          Encoded.of(
              new ServerMessage.Plane(num, m.frame().step(), m.frame().plane(), m.frame().axes()));
      if (m == planeFrame) {
        planeMessage = e;
      }
    }
    return e;
  }
}
