package dev.latentstream.load;

import dev.latentstream.load.LoadGenerator.Viewer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Option;

/**
 * Issue 21's failover watch: {@code --failover N} viewers on the gateways ({@code --url} and {@code
 * --also-url} in turn), each subscribed to every stream and parsing every loss message, while
 * something else kills trainer nodes. A viewer whose socket is closed reconnects as the page does
 * (full jitter, 0-3 s doubling up to 15 s). When {@code --until-file} exists it prints one line of
 * {@code key=value} figures: viewers closed and reconnected, histories received, and the loss
 * points missed or repeated after a history (each failover sends a fresh one), the first anomaly
 * seen.
 */
final class FailoverWatch {

  static final long BASE_MS = 3000;
  static final long CAP_MS = 15000;

  @Option(
      names = "--failover",
      paramLabel = "VIEWERS",
      defaultValue = "0",
      description = "Failover watch: VIEWERS reconnecting viewers until --until-file exists.")
  int viewers;

  @Option(
      names = "--until-file",
      paramLabel = "PATH",
      description = "Failover watch: stop and report once this file exists.")
  Path untilFile;

  boolean enabled() {
    return viewers > 0;
  }

  String invalid() {
    return enabled() && untilFile == null ? "--failover needs --until-file PATH" : null;
  }

  private final AtomicInteger closes = new AtomicInteger();
  private final AtomicInteger connectFailures = new AtomicInteger();
  private volatile String lastConnectFailure = "-";

  void run(LoadGenerator g, int jobNum) throws Exception {
    List<Viewer> all = new ArrayList<>();
    List<AtomicInteger> closedTimes = new ArrayList<>();
    for (int i = 0; i < viewers; i++) {
      Viewer v = new Viewer(true);
      AtomicInteger times = new AtomicInteger();
      v.onServerClose =
          () -> {
            times.incrementAndGet();
            closes.incrementAndGet();
            reconnect(g, v, jobNum, 0);
          };
      all.add(v);
      closedTimes.add(times);
      g.connect(v, jobNum).onFailure(t -> failedThenRetry(g, v, jobNum, 0, t));
      Thread.sleep(5); // 200 a second, as pages that open over a few seconds
    }
    System.out.printf(Locale.ROOT, "failover-watch: %d viewers on job %d%n", viewers, jobNum);
    while (!Files.exists(untilFile)) {
      Thread.sleep(200);
    }
    int closed = 0;
    int reconnected = 0;
    int connected = 0;
    int minHistories = Integer.MAX_VALUE;
    int maxHistories = 0;
    long missed = 0;
    long missedAtJoin = 0;
    long repeated = 0;
    int anomalies = 0;
    String first = null;
    for (int i = 0; i < all.size(); i++) {
      Viewer v = all.get(i);
      boolean open = v.ws != null && !v.ws.isClosed();
      connected += open ? 1 : 0;
      if (closedTimes.get(i).get() > 0) {
        closed++;
        reconnected += open ? 1 : 0;
      }
      minHistories = Math.min(minHistories, v.histories);
      maxHistories = Math.max(maxHistories, v.histories);
      missed += v.missed;
      missedAtJoin += v.missedAtJoin;
      repeated += v.repeated;
      if (v.firstAnomaly != null) {
        anomalies++;
        first = first == null ? v.firstAnomaly : first;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "failover-watch: viewers=%d connected=%d closed=%d reconnected=%d closes=%d"
            + " histories_min=%d histories_max=%d missed=%d missed_at_join=%d repeated=%d"
            + " anomalies=%d first=%s connect_failures=%d last_failure=%s%n",
        viewers,
        connected,
        closed,
        reconnected,
        closes.get(),
        minHistories,
        maxHistories,
        missed,
        missedAtJoin,
        repeated,
        anomalies,
        first == null ? "-" : first.replace(' ', '_'),
        connectFailures.get(),
        lastConnectFailure);
    g.close(all);
  }

  /** The page's back-off: a full-jitter wait, 0-3 s doubling up to 15 s, then another try. */
  private void reconnect(LoadGenerator g, Viewer v, int jobNum, int attempt) {
    long cap = Math.min(CAP_MS, BASE_MS << Math.min(attempt, 10));
    long wait = ThreadLocalRandom.current().nextLong(cap + 1);
    g.vertx.setTimer(
        Math.max(1, wait),
        id -> g.connect(v, jobNum).onFailure(t -> failedThenRetry(g, v, jobNum, attempt + 1, t)));
  }

  private void failedThenRetry(LoadGenerator g, Viewer v, int jobNum, int attempt, Throwable t) {
    connectFailures.incrementAndGet();
    lastConnectFailure = String.valueOf(t.getMessage()).replace(' ', '_');
    reconnect(g, v, jobNum, attempt);
  }
}
