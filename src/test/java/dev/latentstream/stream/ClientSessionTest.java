package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.testing.FakeSockets;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientSessionTest {

  /**
   * A session with a write bound of 1 MiB and a budget of {@code bytesPerSecond} (0: none),
   * subscribed to every stream of each of {@code jobs} with no frame-rate cap.
   */
  static ClientSession session(ServerWebSocket ws, int bytesPerSecond, int... jobs) {
    ClientSession s =
        new ClientSession(
            ws, false, 1 << 20, bytesPerSecond, new StreamCounters(), m -> null, () -> {});
    for (int job : jobs) {
      s.subscribe(job, EnumSet.allOf(Protocol.Stream.class), 0);
    }
    return s;
  }

  /** An open socket whose writes complete at once; records the kind byte of each binary message. */
  static ServerWebSocket openSocket(List<Integer> kinds) {
    return FakeSockets.openTo(b -> kinds.add((int) b.getByte(1)));
  }

  @Test
  void aSocketClosedBeforeItsCloseHandlerRanIsSkippedNotWrittenTo() {
    List<String> calls = new ArrayList<>();
    ClientSession s = session(FakeSockets.closed(calls), 0, 1);
    s.send(Encoded.of("{\"type\":\"loss\"}"));
    s.offerFrame(FrameMessage.of(1, new Frame(FrameKind.RECON, 1, 0, 1, 1, new byte[] {1})));
    assertTrue(!s.open());
    assertEquals(List.of("isClosed"), calls, "nothing written, no write-queue check");
  }

  @Test
  void livePointsGoOnlyWhereTheyContinueTheHistoryAndOtherwiseAFreshHistoryIsOwed() {
    List<String> texts = new ArrayList<>();
    ClientSession s =
        session(
            FakeSockets.open(
                w -> {
                  texts.add(String.valueOf(w));
                  return io.vertx.core.Future.succeededFuture();
                }),
            0,
            1);
    Encoded points = Encoded.of("{\"type\":\"loss\"}");

    assertTrue(!s.offerLoss(1, steps(1, 3), () -> points), "no history on this connection yet");
    assertTrue(!s.takesLive(1, Protocol.Stream.loss), "it waits for one now");
    assertTrue(s.deliverHistory(1, () -> List.of(Encoded.of("{\"type\":\"history\"}")), 3));
    assertTrue(s.offerLoss(1, steps(4, 6), () -> points), "4 continues a history ending at 3");
    assertTrue(!s.offerLoss(1, steps(9, 9), () -> points), "9 after 6 is a gap");
    assertEquals(List.of("{\"type\":\"history\"}", "{\"type\":\"loss\"}"), texts);
  }

  private static Columns steps(long from, long to) {
    Columns c = new Columns();
    for (long step = from; step <= to; step++) {
      c.add(step, 0, step, java.util.Map.of("recon", 1.0));
    }
    return c;
  }

  /** A frame of job 1 whose binary message is {@code bytes} long. */
  static FrameMessage frame(FrameKind kind, long step, int bytes) {
    return frame(1, kind, step, bytes);
  }

  static FrameMessage frame(int job, FrameKind kind, long step, int bytes) {
    return FrameMessage.of(
        job, new Frame(kind, step, 0, 1, 1, new byte[bytes - FrameHeader.BYTES]));
  }

  @Test
  void framesWaitWhileTheByteBudgetIsSpentAndTheStreamThatWaitedLongestGoesFirst() {
    List<Integer> sent = new ArrayList<>();
    ClientSession s = session(openSocket(sent), 10_000, 1);
    // 10,000 bytes of budget: the first frame leaves 4,000, the second goes into debt, the others
    // wait.
    for (FrameKind k : FrameKind.values()) {
      s.offerFrame(frame(k, 100, 6000));
    }
    assertEquals(List.of(FrameKind.RECON.code(), FrameKind.SAMPLES.code()), sent);
    // A newer reconstruction queues behind the streams that have not had a frame yet.
    s.offerFrame(frame(FrameKind.RECON, 200, 6000));
    assertEquals(2, sent.size(), "no budget, nothing more");
    long now = System.nanoTime() + 1_000_000_000L;
    assertTrue(
        s.sendWaitingFrames(now), "one second refills 10,000 bytes: two frames, one still waits");
    assertEquals(
        List.of(
            FrameKind.RECON.code(),
            FrameKind.SAMPLES.code(),
            FrameKind.LATENT.code(),
            FrameKind.MANIFOLD.code()),
        sent);
    assertTrue(s.sendWaitingFrames(now), "the budget is still in debt");
    assertEquals(4, sent.size());
    assertTrue(
        !s.sendWaitingFrames(now + 1_000_000_000L), "the last waiting frame is sent, none lost");
    assertEquals(FrameKind.RECON.code(), sent.getLast());
  }

  @Test
  void aNewcomersBigHistoryHoldsItsFramesBackForAboutASecondNotForAsManySecondsAsItsShareIsSmall() {
    List<Integer> sent = new ArrayList<>();
    ClientSession s = session(openSocket(sent), 10_000, 1);
    // 400 KB of history: 40 s of this budget if charged in full.
    s.send(Encoded.of("{\"type\":\"history\",\"pad\":\"" + "x".repeat(400_000) + "\"}"));
    s.offerFrame(frame(FrameKind.RECON, 100, 6000));
    assertEquals(List.of(), sent, "the history's debt holds the frame back");
    long t0 = System.nanoTime();
    assertTrue(s.sendWaitingFrames(t0 + 900_000_000L), "still in debt after 0.9 s");
    assertTrue(
        !s.sendWaitingFrames(t0 + 1_500_000_000L),
        "sent once a second's worth is paid back, not after 40 s");
    assertEquals(List.of(FrameKind.RECON.code()), sent);
  }

  @Test
  void overAnyStretchOfTimeTheBytesSentStayWithinTheBudgetPlusOneSecondAndOneFrame() {
    List<Integer> sent = new ArrayList<>();
    int budget = 20_000;
    int frameBytes = 7_000;
    ClientSession s = session(openSocket(sent), budget, 1);
    long t0 = System.nanoTime();
    int seconds = 30;
    // A frame of every kind every 100 ms: 280,000 bytes offered per second against a 20,000-byte
    // budget.
    for (int tick = 0; tick < seconds * 10; tick++) {
      long now = t0 + tick * 100_000_000L;
      for (FrameKind k : FrameKind.values()) {
        s.offerFrame(frame(k, tick, frameBytes));
      }
      s.sendWaitingFrames(now);
    }
    long bytes = (long) sent.size() * frameBytes;
    assertTrue(
        bytes <= (long) budget * (seconds + 1) + frameBytes, bytes + " bytes in " + seconds + " s");
    assertTrue(bytes >= (long) budget * (seconds - 2), "the budget is used, not wasted: " + bytes);
    for (FrameKind k : FrameKind.values()) {
      long n = sent.stream().filter(c -> c == k.code()).count();
      assertTrue(n >= sent.size() / 4 - 1, k + " got its share: " + n + " of " + sent.size());
    }
  }

  @Test
  void aCrowdSharesTheProcessEgressCapAndAFewViewersGetTheirFullBudget() {
    // 20 MB/s over 2 hubs: 10 MB/s each; 100 viewers on a hub get their 100 KB/s, 1,000 get 10
    // KB/s.
    assertEquals(100_000, ClientSession.budget(100_000, 20_000_000, 2, 100));
    assertEquals(10_000, ClientSession.budget(100_000, 20_000_000, 2, 1000));
    assertEquals(
        100_000, ClientSession.budget(100_000, 0, 2, 1000), "no cap: the per-viewer budget");
    assertEquals(0, ClientSession.budget(0, 0, 1, 10), "neither: no budget at all");
    assertEquals(20_000, ClientSession.budget(0, 20_000_000, 1, 1000), "only the cap");
    assertEquals(
        1, ClientSession.budget(100_000, 1000, 1, 1_000_000), "never below one byte a second");
    assertEquals(100_000, ClientSession.budget(100_000, 20_000_000, 2, 0), "no viewers yet");
  }

  @Test
  void aLowerBudgetTakesEffectAtOnce() {
    List<Integer> sent = new ArrayList<>();
    ClientSession s = session(openSocket(sent), 100_000, 1);
    s.setBytesPerSecond(5_000);
    s.offerFrame(frame(FrameKind.RECON, 1, 6000));
    s.offerFrame(frame(FrameKind.SAMPLES, 1, 6000));
    assertEquals(
        List.of(FrameKind.RECON.code()), sent, "5,000 bytes of budget left: one frame, then debt");
  }

  @Test
  void aSocketWatchingEightJobsSharesItsOneBudgetAmongThemOverTwentySeconds() {
    List<Integer> jobs = new ArrayList<>();
    ServerWebSocket ws = FakeSockets.openTo(b -> jobs.add(b.getInt(4)));
    int budget = 30_000;
    int frameBytes = 6_000;
    ClientSession s = session(ws, budget, 1, 2, 3, 4, 5, 6, 7, 8);
    long t0 = System.nanoTime();
    int seconds = 20;
    // Every job offers a frame of every kind every 100 ms: 1,920,000 bytes a second against 30,000.
    for (int tick = 0; tick < seconds * 10; tick++) {
      for (int job = 1; job <= 8; job++) {
        for (FrameKind k : FrameKind.values()) {
          s.offerFrame(frame(job, k, tick, frameBytes));
        }
      }
      s.sendWaitingFrames(t0 + tick * 100_000_000L);
    }
    long bytes = (long) jobs.size() * frameBytes;
    assertTrue(
        bytes <= budget * seconds * 1.1,
        "one budget for the socket, not one per job: "
            + bytes
            + " bytes in "
            + seconds
            + " s against "
            + budget
            + " a second");
    assertTrue(bytes >= budget * seconds * 0.9, "the budget is used: " + bytes);
    for (int job = 1; job <= 8; job++) {
      int j = job;
      long n = jobs.stream().filter(x -> x == j).count();
      assertTrue(
          n >= jobs.size() / 8 - 2,
          "job " + job + " got its share: " + n + " of " + jobs.size() + " frames");
    }
  }
}
