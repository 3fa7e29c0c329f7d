package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.Stream;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A hub's connected clients, and every message that goes to more than one of them: encoded once,
 * the same bytes to each session that takes it. Each session keeps its own back-pressure (see
 * {@link ClientSession}); this class shares the egress budget among them, brings back the frames
 * they hold for later, and closes the ones that stay too slow.
 *
 * <p>Threads: one per hub, on the hub's event loop only, like its sessions.
 */
final class FanOut {

  private static final System.Logger LOG = System.getLogger(FanOut.class.getName());

  /**
   * Viewers per hub up to which loss goes out every {@code lossBatchMs}; past it, that many times
   * less often, so the loss writes per second per event loop stay about what this many viewers
   * cost, whatever the crowd (figures in docs/benchmarks.md).
   */
  static final int VIEWERS_PER_LOSS_BATCH = 125;

  private final ServerConfig config;
  private final StreamCounters counters;
  private final Set<ClientSession> sessions = new HashSet<>();

  /** Sessions with frames waiting for their window or for room. */
  private final Set<ClientSession> framesWaiting = new LinkedHashSet<>();

  FanOut(ServerConfig config, StreamCounters counters) {
    this.config = config;
    this.counters = counters;
  }

  /**
   * A session for a new client, counted in from now on (its egress share included) until its socket
   * closes; then {@code onClose} runs (the HTTP side's bookkeeping).
   */
  ClientSession add(
      ServerWebSocket ws,
      boolean authorized,
      Function<FrameMessage, Encoded> planeOf,
      Runnable onClose) {
    ClientSession[] self = new ClientSession[1];
    ClientSession s =
        new ClientSession(
            ws,
            authorized,
            config.writeQueueBytes(),
            config.viewerBytesPerSecond(),
            counters,
            planeOf,
            () -> framesWaiting.add(self[0]));
    self[0] = s;
    sessions.add(s);
    shareEgress();
    ws.closeHandler(
        v -> {
          s.socketClosed();
          sessions.remove(s);
          framesWaiting.remove(s);
          shareEgress();
          onClose.run();
        });
    ws.exceptionHandler(
        t -> {
          // A broken socket is closed by Vert.x; the close handler forgets the session.
        });
    return s;
  }

  /** Forgets the session now (no more writes to it) and closes its socket. */
  void close(ClientSession s, short code, String reason) {
    s.close(code, reason);
    sessions.remove(s);
    framesWaiting.remove(s);
  }

  int size() {
    return sessions.size();
  }

  /** To every client, subscribed or not (job statuses, so run lists stay live). */
  void toAll(Encoded text) {
    sessions.forEach(s -> s.send(text));
  }

  /** Encodes once (only if someone takes it), sends to every session taking the stream live. */
  void broadcast(int job, Stream stream, ServerMessage msg) {
    Encoded text = null;
    for (ClientSession s : sessions) {
      if (s.takesLive(job, stream)) {
        if (text == null) {
          text = Encoded.of(msg);
        }
        s.send(text);
      }
    }
  }

  /** Sends a message encoded once to every session taking the job's stream live. */
  void toLive(int job, Stream stream, Encoded text) {
    for (ClientSession s : sessions) {
      if (s.takesLive(job, stream)) {
        s.send(text);
      }
    }
  }

  /** Offers a frame to each subscriber of its stream; each sends it now or holds it. */
  void frame(FrameMessage m) {
    Stream stream = Stream.of(m.frame().kind());
    for (ClientSession s : sessions) {
      if (s.wants(m.job(), stream)) {
        s.offerFrame(m);
      }
    }
  }

  /** Sends held frames whose window has opened (called every few tens of milliseconds). */
  void sendWaitingFrames() {
    if (framesWaiting.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    framesWaiting.removeIf(s -> !s.sendWaitingFrames(now));
  }

  /**
   * Sends each job's new loss points, one message encoded once for all its subscribers. A
   * subscriber they would not continue (a gap after its last step, or no history on this
   * connection) gets none of them and waits for a fresh history instead, which covers them (see
   * {@link ClientSession#offerLoss}); the jobs owing such a history are returned, for the caller to
   * send.
   */
  List<JobStream> flushLoss(Iterable<JobStream> jobs) {
    List<JobStream> oweHistory = new ArrayList<>(0);
    for (JobStream js : jobs) {
      Columns batch = js.takePendingLoss();
      if (batch == null) {
        continue;
      }
      Encoded[] text = new Encoded[1];
      Supplier<Encoded> once =
          () -> {
            if (text[0] == null) {
              text[0] = Encoded.of(new ServerMessage.Loss(js.num, batch.toJson()));
            }
            return text[0];
          };
      int owed = 0;
      for (ClientSession s : sessions) {
        owed += s.offerLoss(js.num, batch, once) ? 0 : 1;
      }
      if (owed > 0) {
        LOG.log(
            System.Logger.Level.INFO,
            "live loss of "
                + js.id()
                + " from step "
                + batch.firstStep()
                + " does not continue what "
                + owed
                + " viewer(s) have (a gap, or no history yet): they get a fresh history instead");
        oweHistory.add(js);
      }
    }
    return oweHistory;
  }

  /** The job is gone: every client forgets its subscription and is told. */
  void deleted(int job, Encoded text) {
    sessions.forEach(
        s -> {
          s.unsubscribe(job);
          s.send(text);
        });
  }

  /** The job's loss subscribers wait for a fresh history; true if there is any. */
  boolean awaitHistory(int job) {
    boolean any = false;
    for (ClientSession c : sessions) {
      any |= c.awaitHistory(job);
    }
    return any;
  }

  /** No history can be built: whoever waits for one goes live without it. */
  void abandonHistory(int job) {
    sessions.forEach(c -> c.abandonHistory(job));
  }

  /**
   * Sends {@code messages} (a history ending at {@code lastStep}, 0 for one without loss points,
   * encoded once when first asked) to each session owed it.
   */
  void deliverHistory(int job, Supplier<List<Encoded>> messages, long lastStep) {
    for (ClientSession s : sessions) {
      if (s.deliverHistory(job, messages, lastStep)) {
        counters.historiesSent++;
        counters.historyBytesSent += messages.get().getFirst().bytes();
      }
    }
  }

  /**
   * Closes a client over twice its bound, or over it for longer than {@code slowClientTimeoutMs}.
   */
  void closeSlowClients() {
    long now = System.currentTimeMillis();
    for (ClientSession s : List.copyOf(sessions)) {
      if (s.overHardBound()) {
        close(
            s,
            (short) 1008,
            "too slow: over " + 2L * config.writeQueueBytes() + " bytes waiting to be read");
        counters.slowClientsClosed++;
      } else if (s.overBoundLongerThan(config.slowClientTimeoutMs(), now)) {
        close(
            s,
            (short) 1008,
            "too slow: unwritable for over " + config.slowClientTimeoutMs() + " ms");
        counters.slowClientsClosed++;
      }
    }
  }

  /**
   * Loss ticks per flush: 1 up to {@link #VIEWERS_PER_LOSS_BATCH} viewers, then one more per that
   * many.
   */
  int lossBatchTicks() {
    return 1 + (sessions.size() - 1) / VIEWERS_PER_LOSS_BATCH;
  }

  /**
   * Each viewer's byte budget: {@code viewerBytesPerSecond}, or an equal share of this hub's part
   * of {@code maxEgressBytesPerSecond} when that is less, so more viewers get fewer frames each
   * instead of taking the trainer's CPU.
   */
  private void shareEgress() {
    int each =
        ClientSession.budget(
            config.viewerBytesPerSecond(),
            config.maxEgressBytesPerSecond(),
            config.gatewayInstanceCount(),
            sessions.size());
    sessions.forEach(c -> c.setBytesPerSecond(each));
  }
}
