package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientSessionTest {

  /**
   * A socket that Vert.x has closed but whose close handler has not run yet: writing to it throws.
   */
  static ServerWebSocket closedSocket(List<String> calls) {
    return (ServerWebSocket)
        Proxy.newProxyInstance(
            ServerWebSocket.class.getClassLoader(),
            new Class<?>[] {ServerWebSocket.class},
            (proxy, method, args) -> {
              calls.add(method.getName());
              return switch (method.getName()) {
                case "isClosed" -> true;
                case "drainHandler" -> proxy;
                case "writeTextMessage", "writeBinaryMessage" -> Future.failedFuture("closed");
                default -> throw new IllegalStateException("WebSocket is closed");
              };
            });
  }

  @Test
  void aSocketClosedBeforeItsCloseHandlerRanIsSkippedNotWrittenTo() {
    List<String> calls = new ArrayList<>();
    ClientSession s =
        new ClientSession(
            closedSocket(calls), false, 1 << 20, 0, new StreamCounters(), m -> null, () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
    s.send(Encoded.of("{\"type\":\"loss\"}"));
    s.offerFrame(FrameMessage.of(1, new Frame(FrameKind.RECON, 1, 0, 1, 1, new byte[] {1})));
    assertTrue(!s.open());
    assertEquals(List.of("isClosed"), calls, "nothing written, no write-queue check");
  }

  /** An open socket whose writes complete at once; records the kind byte of each binary message. */
  static ServerWebSocket openSocket(List<Integer> kinds) {
    return (ServerWebSocket)
        Proxy.newProxyInstance(
            ServerWebSocket.class.getClassLoader(),
            new Class<?>[] {ServerWebSocket.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "isClosed" -> false;
                  case "writeBinaryMessage" -> {
                    kinds.add((int) ((io.vertx.core.buffer.Buffer) args[0]).getByte(1));
                    yield Future.succeededFuture();
                  }
                  case "writeTextMessage", "writeFrame" -> Future.succeededFuture();
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }

  static FrameMessage frame(FrameKind kind, long step, int bytes) {
    return FrameMessage.of(1, new Frame(kind, step, 0, 1, 1, new byte[bytes - FrameHeader.BYTES]));
  }

  @Test
  void framesWaitWhileTheByteBudgetIsSpentAndTheStreamThatWaitedLongestGoesFirst() {
    List<Integer> sent = new ArrayList<>();
    ClientSession s =
        new ClientSession(
            openSocket(sent), false, 1 << 20, 10_000, new StreamCounters(), m -> null, () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
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
    ClientSession s =
        new ClientSession(
            openSocket(sent), false, 1 << 20, 10_000, new StreamCounters(), m -> null, () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
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
    ClientSession s =
        new ClientSession(
            openSocket(sent), false, 1 << 20, budget, new StreamCounters(), m -> null, () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
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
    ClientSession s =
        new ClientSession(
            openSocket(sent), false, 1 << 20, 100_000, new StreamCounters(), m -> null, () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
    s.setBytesPerSecond(5_000);
    s.offerFrame(frame(FrameKind.RECON, 1, 6000));
    s.offerFrame(frame(FrameKind.SAMPLES, 1, 6000));
    assertEquals(
        List.of(FrameKind.RECON.code()), sent, "5,000 bytes of budget left: one frame, then debt");
  }

  @Test
  void aSocketWatchingEightJobsSharesItsOneBudgetAmongThemOverTwentySeconds() {
    List<Integer> jobs = new ArrayList<>();
    ServerWebSocket ws =
        (ServerWebSocket)
            Proxy.newProxyInstance(
                ServerWebSocket.class.getClassLoader(),
                new Class<?>[] {ServerWebSocket.class},
                (proxy, method, args) ->
                    switch (method.getName()) {
                      case "isClosed" -> false;
                      case "writeBinaryMessage" -> {
                        jobs.add(((io.vertx.core.buffer.Buffer) args[0]).getInt(4));
                        yield Future.succeededFuture();
                      }
                      case "writeTextMessage", "writeFrame" -> Future.succeededFuture();
                      default -> throw new UnsupportedOperationException(method.getName());
                    });
    int budget = 30_000;
    int frameBytes = 6_000;
    ClientSession s =
        new ClientSession(ws, false, 1 << 20, budget, new StreamCounters(), m -> null, () -> {});
    for (int job = 1; job <= 8; job++) {
      s.subscribe(job, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
    }
    long t0 = System.nanoTime();
    int seconds = 20;
    // Every job offers a frame of every kind every 100 ms: 1,920,000 bytes a second against 30,000.
    for (int tick = 0; tick < seconds * 10; tick++) {
      for (int job = 1; job <= 8; job++) {
        for (FrameKind k : FrameKind.values()) {
          s.offerFrame(
              FrameMessage.of(
                  job, new Frame(k, tick, 0, 1, 1, new byte[frameBytes - FrameHeader.BYTES])));
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
