package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.testing.FakeSockets;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** One client's frame pacing on its own: rate windows, conflation, fairness, the write bound. */
class FramePacerTest {

  private static final long SECOND = 1_000_000_000L;

  private final Map<Integer, Subscription> subscriptions = new HashMap<>();
  private final StreamCounters counters = new StreamCounters();
  private int heldNotices;

  /** What went out, in order: "text" for a JSON message, "KIND@STEP" for a frame. */
  private final List<String> written = new ArrayList<>();

  private FramePacer pacer;

  /**
   * A pacer over {@code ws} with a write bound of {@code bound} bytes and no byte budget; a latent
   * frame is preceded by a plane message.
   */
  private FramePacer pacer(ServerWebSocket ws, int bound) {
    Function<FrameMessage, Encoded> planeOf =
        m -> m.frame().kind() == FrameKind.LATENT ? Encoded.of("{\"type\":\"plane\"}") : null;
    ClientSocket socket =
        new ClientSocket(ws, bound, 0, () -> pacer.sendWaiting(System.nanoTime()));
    pacer = new FramePacer(socket, subscriptions, counters, planeOf, () -> heldNotices++);
    return pacer;
  }

  /** Records each write; every write completes with the future {@code completion} gives. */
  private ServerWebSocket socket(Function<Object, Future<Void>> completion) {
    return FakeSockets.open(
        w -> {
          written.add(
              w instanceof Buffer b
                  ? FrameKind.fromCode(b.getByte(1)).wireName() + "@" + b.getLong(8)
                  : "text");
          return completion.apply(w);
        });
  }

  private static FrameMessage frame(FrameKind kind, long step) {
    return ClientSessionTest.frame(kind, step, 6000);
  }

  private Subscription subscribe(long frameIntervalNanos) {
    Subscription sub = new Subscription(EnumSet.allOf(Stream.class), frameIntervalNanos, false);
    subscriptions.put(1, sub);
    return sub;
  }

  @Test
  void aFrameInsideItsWindowIsHeldANewerOneReplacesItAndOnlyTheNewestGoesWhenTheWindowOpens() {
    FramePacer p = pacer(socket(w -> Future.succeededFuture()), 1 << 20);
    subscribe(SECOND);
    p.offer(frame(FrameKind.RECON, 1));
    p.offer(frame(FrameKind.RECON, 2));
    p.offer(frame(FrameKind.RECON, 3));
    assertEquals(List.of("recon@1"), written, "one a second: the first goes, the rest wait");
    assertEquals(1, counters.framesConflated, "step 3 replaced step 2");
    assertEquals(2, heldNotices, "the hub is told each time a frame is held");
    assertTrue(p.sendWaiting(System.nanoTime()), "the window is still shut");
    assertEquals(1, written.size());
    assertFalse(p.sendWaiting(System.nanoTime() + 2 * SECOND), "nothing left once it has gone");
    assertEquals(List.of("recon@1", "recon@3"), written);
    assertEquals(2, counters.framesSent);
  }

  @Test
  void aStreamWhoseWindowIsOpenQueuesBehindOneThatWaitsAndTheLongestWaitingGoesFirst() {
    FramePacer p = pacer(socket(w -> Future.succeededFuture()), 1 << 20);
    subscribe(SECOND);
    p.offer(frame(FrameKind.RECON, 1));
    p.offer(frame(FrameKind.RECON, 2));
    p.offer(frame(FrameKind.SAMPLES, 2));
    assertEquals(List.of("recon@1"), written, "samples waits behind the held reconstruction");
    assertFalse(p.sendWaiting(System.nanoTime() + 2 * SECOND));
    assertEquals(
        List.of("recon@1", "samples@2", "recon@2"),
        written,
        "samples has never had a frame, so it has waited longest");
  }

  @Test
  void aLatentFrameFollowsItsPlaneMessageAndOtherFramesGoAlone() {
    FramePacer p = pacer(socket(w -> Future.succeededFuture()), 1 << 20);
    subscribe(0);
    p.offer(frame(FrameKind.RECON, 1));
    p.offer(frame(FrameKind.LATENT, 1));
    assertEquals(List.of("recon@1", "text", "latent@1"), written);
  }

  @Test
  void framesWaitWhileTheSocketIsOverItsBoundAndGoWhenAWriteCompletes() {
    List<Promise<Void>> pending = new ArrayList<>();
    FramePacer p =
        pacer(
            socket(
                w -> {
                  Promise<Void> done = Promise.promise();
                  pending.add(done);
                  return done.future();
                }),
            10_000);
    subscribe(0);
    p.offer(frame(FrameKind.RECON, 1));
    p.offer(frame(FrameKind.SAMPLES, 1));
    p.offer(frame(FrameKind.MANIFOLD, 1));
    assertEquals(
        List.of("recon@1", "samples@1"), written, "12,000 bytes unsent: over the 10,000 bound");
    assertTrue(p.sendWaiting(System.nanoTime() + SECOND), "still over the bound");
    assertEquals(2, written.size());
    pending.getFirst().complete();
    assertEquals(
        List.of("recon@1", "samples@1", "manifold@1"),
        written,
        "back within the bound: the held frame goes at once");
  }

  @Test
  void framesWaitForAnOwedHistoryAndGoOnceItHasArrived() {
    FramePacer p = pacer(socket(w -> Future.succeededFuture()), 1 << 20);
    Subscription sub = subscribe(0);
    assertTrue(sub.owesHistory());
    p.offer(frame(FrameKind.RECON, 1));
    assertEquals(List.of(), written, "nothing before the history");
    assertTrue(p.sendWaiting(System.nanoTime()));
    sub.historyArrived(0);
    assertFalse(p.sendWaiting(System.nanoTime()));
    assertEquals(List.of("recon@1"), written);
  }

  @Test
  void aFrameForAJobWithoutASubscriptionIsNotSentOrHeld() {
    FramePacer p = pacer(socket(w -> Future.succeededFuture()), 1 << 20);
    p.offer(frame(FrameKind.RECON, 1));
    assertEquals(List.of(), written);
    assertEquals(0, heldNotices);
    assertFalse(p.sendWaiting(System.nanoTime()));
  }
}
