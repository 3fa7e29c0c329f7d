package dev.latentstream.load;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A WebSocket load generator for a running {@code latentstream serve}, in its own process. Its
 * viewers behave like browsers: they offer permessage-deflate, subscribe to every stream of a job
 * and read everything. It runs phases of N viewers and prints, per phase, the training rate, the
 * server's CPU per step (from {@code /proc/PID/stat}), loss latency, frames and bytes per viewer
 * per second, REST latency from a side client polling {@code /api/jobs}, and how many clients the
 * server closed. A reconnect-storm phase connects N clients at once and times how long each waits
 * for its history. {@link DecodeFlood} ({@code --decode-flood}) measures training under a flood of
 * interactive requests from one client, and {@link Soak} ({@code --soak}) runs viewers that churn
 * for minutes and watches the server's memory and the stayers' loss streams.
 *
 * <pre>
 * ./latentstream tool LoadGenerator --url http://127.0.0.1:8080 --pid 1234 --phases 0,200,1000 --storm 500
 * ./latentstream tool LoadGenerator --url http://127.0.0.1:8080 --pid 1234 --decode-flood
 * ./latentstream tool LoadGenerator --url http://127.0.0.1:8080 --pid 1234 --soak 20 --viewers 200 --churn 10
 * ./latentstream tool LoadGenerator --url http://127.0.0.1:8081 --also-url http://127.0.0.1:8082 --failover 200 --until-file stop
 * </pre>
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = "WebSocket load generator for latentstream.")
public final class LoadGenerator implements Callable<Integer> {

  @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "The server.")
  URI url;

  @Option(
      names = "--also-url",
      split = ",",
      description =
          "More gateways of the same cluster: viewers are spread over --url and these in turn.")
  List<URI> alsoUrls = List.of();

  /** Which gateway the next viewer goes to. */
  private final AtomicLong nextGateway = new AtomicLong();

  @Option(
      names = "--pid",
      description = "The server's process id (for CPU per step from /proc/PID/stat).")
  Long pid;

  @Option(
      names = "--phases",
      split = ",",
      description = "Viewers per phase (default 0,200 unless --decode-flood or --soak is given).")
  List<Integer> phases;

  @Option(
      names = "--seconds",
      defaultValue = "30",
      description = "Measured seconds per phase (after a warm-up).")
  int seconds;

  @Option(
      names = "--warmup",
      defaultValue = "5",
      description = "Seconds after connecting before measuring.")
  int warmup;

  @Option(
      names = "--storm",
      defaultValue = "0",
      description = "Clients of the reconnect storm (0: none).")
  int storm;

  @Option(
      names = "--storm-at-step",
      defaultValue = "50000",
      description = "Wait for the job to reach this step first.")
  long stormAtStep;

  @Option(
      names = "--no-deflate",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "Offer permessage-deflate, as browsers do (default on).")
  boolean deflate;

  @Option(
      names = "--sampled",
      defaultValue = "50",
      description = "Viewers whose loss messages are parsed for latency and gaps.")
  int sampled;

  @Option(names = "--job", description = "Job number (default: the newest running job).")
  Integer job;

  @Mixin DecodeFlood flood = new DecodeFlood();

  @Mixin Soak soak = new Soak();

  @Mixin PageExplorers explorers = new PageExplorers();

  @Mixin FailoverWatch failover = new FailoverWatch();

  @Spec CommandSpec spec;

  Vertx vertx;
  WebSocketClient wsClient;
  HttpClient http;

  /**
   * The REST probe's own event loop and client, as if another user's curl: with the viewers' loops
   * it would also time this process's own queue behind hundreds of sockets, not only the server's
   * answer.
   */
  Vertx probeVertx;

  HttpClient probe;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGenerator()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (String problem :
        new String[] {
          flood.enabled() ? flood.invalid() : null,
          soak.invalid(),
          explorers.invalid(),
          failover.invalid()
        }) {
      if (problem != null) {
        throw new ParameterException(spec.commandLine(), problem);
      }
    }
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    wsClient =
        vertx.createWebSocketClient(
            new WebSocketClientOptions()
                .setTryUsePerMessageCompression(deflate)
                .setMaxMessageSize(64 << 20)
                .setMaxFrameSize(64 << 20)
                .setConnectTimeout(30_000)
                .setMaxConnections(100_000));
    http =
        vertx.createHttpClient(
            new HttpClientOptions().setDefaultHost(url.getHost()).setDefaultPort(url.getPort()),
            new PoolOptions().setHttp1MaxSize(4));
    probeVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    probe =
        probeVertx.createHttpClient(
            new HttpClientOptions().setDefaultHost(url.getHost()).setDefaultPort(url.getPort()),
            new PoolOptions().setHttp1MaxSize(4));
    try {
      int jobNum = job != null ? job : newestRunningJob();
      boolean other =
          flood.enabled() || soak.enabled() || explorers.enabled() || failover.enabled();
      List<Integer> phaseList = phases != null ? phases : other ? List.of() : List.of(0, 200);
      if (!phaseList.isEmpty()) {
        System.out.printf(
            Locale.ROOT,
            "load: %s job %d, deflate offered: %s, %d s per phase%n",
            url,
            jobNum,
            deflate,
            seconds);
        System.out.println(
            "| viewers | steps/s | server CPU ms/step | loss p50 / p99 ms | frames/viewer/s | KB/viewer/s | REST p99 ms | closed | gaps |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
      }
      for (int n : phaseList) {
        System.out.println(phase(jobNum, n).row());
      }
      if (flood.enabled()) {
        flood.run(this, jobNum);
      }
      if (soak.enabled()) {
        soak.run(this, jobNum);
      }
      if (explorers.enabled()) {
        explorers.run(this, jobNum);
      }
      if (failover.enabled()) {
        failover.run(this, jobNum);
      }
      if (storm > 0) {
        storm(jobNum);
      }
      return 0;
    } finally {
      vertx.close().await();
      probeVertx.close().await();
    }
  }

  // --- one phase ------------------------------------------------------------------------------

  record PhaseResult(
      int viewers,
      double stepsPerSecond,
      double cpuMsPerStep,
      long lossP50,
      long lossP99,
      double framesPerViewerSecond,
      double kbPerViewerSecond,
      long restP99,
      int closed,
      long gaps) {
    String row() {
      return String.format(
          Locale.ROOT,
          "| %d | %.1f | %.1f | %s | %.2f | %.1f | %d | %d | %d |",
          viewers,
          stepsPerSecond,
          cpuMsPerStep,
          viewers == 0 ? "–" : lossP50 + " / " + lossP99,
          framesPerViewerSecond,
          kbPerViewerSecond,
          restP99,
          closed,
          gaps);
    }
  }

  /** What one viewer saw; written on a client event loop, read after the phase. */
  static final class Viewer {
    final boolean sampled;
    volatile WebSocket ws;
    volatile boolean measuring;

    /**
     * Set before this side closes the socket: any other close was the server's (or the network's).
     */
    volatile boolean closing;

    volatile boolean closedByServer;
    volatile String closeReason;
    volatile long historyAtNanos = -1;
    final AtomicLong frames = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    volatile long lastStep = -1;
    long gaps;

    /** Live loss steps skipped after the first live point: each gap counts the steps it lost. */
    volatile long missed;

    /** Steps skipped between the history's last point and the first live point after it. */
    volatile long missedAtJoin;

    /** Loss steps that came again, or out of order, after the history. */
    volatile long repeated;

    /** The first gap or repeat, for the report: what came after which step. */
    volatile String firstAnomaly;

    /**
     * Parse loss messages only until the first live point after the history (a cheap check of the
     * join).
     */
    boolean joinOnly;

    /** The first live point after the history has been checked. */
    volatile boolean joined;

    /**
     * Whether the last loss-carrying message was the history (the first live point after it is
     * checked against it).
     */
    boolean afterHistory;

    final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();

    /** Histories received (every loss-parsing viewer counts them). */
    volatile int histories;

    /** Called on the client's event loop when the server (or the network) closed the socket. */
    volatile Runnable onServerClose;

    Viewer(boolean sampled) {
      this.sampled = sampled;
    }
  }

  private PhaseResult phase(int jobNum, int n) throws Exception {
    List<Viewer> viewers = connect(jobNum, n, -1);
    Thread.sleep(TimeUnit.SECONDS.toMillis(warmup));
    Rest rest = new Rest();
    rest.start();
    // The CPU, the steps and the seconds are read at the same two moments: a step reading takes as
    // long as a
    // newcomer's first live loss point, which behind hundreds of viewers can be seconds, and
    // counting the CPU
    // or the time of that wait without its steps inflated CPU per step (or steps/s) by as much.
    long step0 = jobStep(jobNum);
    long cpu0 = cpuTicks();
    long t0 = System.nanoTime();
    viewers.forEach(v -> v.measuring = true);
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    viewers.forEach(v -> v.measuring = false);
    long step1 = jobStep(jobNum);
    long cpu1 = cpuTicks();
    double elapsed = (System.nanoTime() - t0) / 1e9;
    rest.stop();
    long steps = Math.max(1, step1 - step0);
    List<Long> lat = new ArrayList<>();
    long frames = 0;
    long bytes = 0;
    long gaps = 0;
    int closed = 0;
    for (Viewer v : viewers) {
      lat.addAll(v.latencies);
      frames += v.frames.get();
      bytes += v.bytes.get();
      gaps += v.gaps;
      closed += v.closedByServer ? 1 : 0;
    }
    viewers.stream()
        .map(v -> v.firstAnomaly)
        .filter(x -> x != null)
        .findFirst()
        .ifPresent(
            x ->
                System.out.println(
                    "load: gaps: "
                        + viewers.stream().filter(v -> v.firstAnomaly != null).count()
                        + " viewers saw one, the first: "
                        + x));
    close(viewers);
    Collections.sort(lat);
    return new PhaseResult(
        n,
        (step1 - step0) / elapsed,
        cpu0 < 0 ? Double.NaN : (cpu1 - cpu0) * 10.0 / steps,
        percentile(lat, 50),
        percentile(lat, 99),
        n == 0 ? 0 : frames / elapsed / n,
        n == 0 ? 0 : bytes / 1024.0 / elapsed / n,
        rest.p99(),
        closed,
        gaps);
  }

  private List<Viewer> connect(int jobNum, int n, long startNanos) throws Exception {
    List<Viewer> viewers = new ArrayList<>();
    List<Future<WebSocket>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Viewer v = new Viewer(i < sampled);
      viewers.add(v);
      pending.add(connect(v, jobNum));
    }
    Future.join(pending).await(120, TimeUnit.SECONDS);
    long failed = pending.stream().filter(Future::failed).count();
    if (failed > 0) {
      System.out.println(
          "load: "
              + failed
              + " of "
              + n
              + " connections failed, e.g. "
              + pending.stream().filter(Future::failed).findFirst().orElseThrow().cause());
    }
    return viewers;
  }

  /**
   * Opens one viewer's socket, as a browser on the served page would, and subscribes it to every
   * stream.
   */
  Future<WebSocket> connect(Viewer v, int jobNum) {
    return wsClient.connect(wsOptions()).onSuccess(ws -> attach(v, ws, jobNum));
  }

  /** A viewer's socket: on --url, or spread over it and the --also-url gateways. */
  WebSocketConnectOptions wsOptions() {
    int n = 1 + alsoUrls.size();
    int i = (int) (nextGateway.getAndIncrement() % n);
    URI u = i == 0 ? url : alsoUrls.get(i - 1);
    return new WebSocketConnectOptions()
        .setHost(u.getHost())
        .setPort(u.getPort())
        .setURI("/ws")
        .addHeader("Origin", "http://" + u.getHost() + ":" + u.getPort());
  }

  private void attach(Viewer v, WebSocket ws, int jobNum) {
    v.ws = ws;
    ws.closeHandler(
        x -> {
          if (!v.closing) {
            v.closedByServer = true;
            v.closeReason = ws.closeStatusCode() + " " + ws.closeReason();
            if (v.onServerClose != null) {
              v.onServerClose.run();
            }
          }
        });
    ws.binaryMessageHandler(
        b -> {
          if (v.measuring) {
            v.frames.incrementAndGet();
            v.bytes.addAndGet(b.length());
          }
        });
    ws.textMessageHandler(
        text -> {
          if (v.measuring) {
            v.bytes.addAndGet(text.length());
          }
          if (v.historyAtNanos < 0 && text.startsWith("{\"type\":\"history\"")) {
            v.historyAtNanos = System.nanoTime();
          }
          if ((v.sampled || v.joinOnly && !v.joined)
              && (text.startsWith("{\"type\":\"loss\"")
                  || text.startsWith("{\"type\":\"history\""))) {
            lossMessage(v, new JsonObject(text));
          }
        });
    ws.writeTextMessage(
        new JsonObject().put("type", "subscribe").put("id", "load").put("job", jobNum).encode());
  }

  private static void lossMessage(Viewer v, JsonObject m) {
    JsonObject cols = m.getJsonObject("columns");
    JsonArray steps = cols.getJsonArray("step");
    JsonArray times = cols.getJsonArray("time");
    long now = System.currentTimeMillis();
    boolean history = "history".equals(m.getString("type"));
    if (history) {
      v.histories++;
    }
    if (!steps.isEmpty() && !history && v.lastStep < 0 && v.firstAnomaly == null) {
      v.firstAnomaly =
          "a live loss message (steps from " + steps.getLong(0) + ") came before the history";
    }
    for (int i = 0; i < steps.size(); i++) {
      long step = steps.getLong(i);
      if (!history && v.lastStep >= 0 && step != v.lastStep + 1) {
        v.gaps++;
        if (step > v.lastStep + 1 && i == 0 && v.afterHistory) {
          v.missedAtJoin += step - v.lastStep - 1;
        } else if (step > v.lastStep + 1) {
          v.missed += step - v.lastStep - 1;
        } else {
          v.repeated++;
        }
        if (v.firstAnomaly == null) {
          v.firstAnomaly =
              "step "
                  + step
                  + " came after "
                  + v.lastStep
                  + (i == 0 && v.afterHistory ? " (the history's last)" : "");
        }
      }
      v.lastStep = step;
      if (!history && v.measuring && times.getValue(i) instanceof Number t) {
        v.latencies.add(now - t.longValue());
      }
    }
    if (!steps.isEmpty()) {
      v.joined |= v.afterHistory && !history;
      v.afterHistory = history;
    }
  }

  void close(List<Viewer> viewers) throws Exception {
    Future.join(closeAsync(viewers)).await(60, TimeUnit.SECONDS);
  }

  static List<Future<Void>> closeAsync(List<Viewer> viewers) {
    List<Future<Void>> closing = new ArrayList<>();
    for (Viewer v : viewers) {
      v.closing = true;
      if (v.ws != null && !v.ws.isClosed()) {
        closing.add(v.ws.close());
      }
    }
    return closing;
  }

  // --- reconnect storm --------------------------------------------------------------------------

  private void storm(int jobNum) throws Exception {
    long step;
    while ((step = jobStep(jobNum)) < stormAtStep) {
      System.out.printf(Locale.ROOT, "load: storm waits for step %d (now %d)%n", stormAtStep, step);
      Thread.sleep(10_000);
    }
    Rest rest = new Rest();
    rest.start();
    long t0 = System.nanoTime();
    List<Viewer> viewers = connect(jobNum, storm, t0);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (viewers.stream().anyMatch(v -> v.historyAtNanos < 0 && !v.closedByServer)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    Thread.sleep(2000);
    rest.stop();
    List<Long> waits = new ArrayList<>();
    int missing = 0;
    for (Viewer v : viewers) {
      if (v.historyAtNanos < 0) {
        missing++;
      } else {
        waits.add(TimeUnit.NANOSECONDS.toMillis(v.historyAtNanos - t0));
      }
    }
    Collections.sort(waits);
    System.out.printf(
        Locale.ROOT,
        "storm: %d clients at step %d: history p50 %d ms, p99 %d ms, last %d ms, without history %d;"
            + " REST p99 %d ms, max %d ms%n",
        storm,
        step,
        percentile(waits, 50),
        percentile(waits, 99),
        waits.isEmpty() ? -1 : waits.getLast(),
        missing,
        rest.p99(),
        rest.max());
    close(viewers);
  }

  // --- the side client, /proc, /api -----------------------------------------------------------

  /** Polls GET /api/jobs every 100 ms and keeps each response time. */
  final class Rest {
    final List<Long> millis = Collections.synchronizedList(new ArrayList<>());
    long timer;

    void start() {
      timer =
          probeVertx.setPeriodic(
              100,
              id -> {
                long t = System.nanoTime();
                probe
                    .request(HttpMethod.GET, url.getPort(), url.getHost(), "/api/jobs")
                    .compose(r -> r.send())
                    .compose(r -> r.body())
                    .onComplete(
                        ar -> millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t)));
              });
    }

    void stop() {
      probeVertx.cancelTimer(timer);
    }

    /** The times kept so far, sorted, and a fresh start (for per-minute figures). */
    List<Long> drain() {
      List<Long> copy;
      synchronized (millis) {
        copy = new ArrayList<>(millis);
        millis.clear();
      }
      Collections.sort(copy);
      return copy;
    }

    long p99() {
      List<Long> copy = new ArrayList<>(millis);
      Collections.sort(copy);
      return percentile(copy, 99);
    }

    long max() {
      return millis.stream().mapToLong(Long::longValue).max().orElse(-1);
    }
  }

  JsonArray jobs() throws Exception {
    Buffer b =
        http.request(HttpMethod.GET, url.getPort(), url.getHost(), "/api/jobs")
            .compose(r -> r.send())
            .compose(r -> r.body())
            .await(30, TimeUnit.SECONDS);
    return new JsonArray(b);
  }

  private int newestRunningJob() throws Exception {
    JsonArray jobs = jobs();
    for (int i = jobs.size() - 1; i >= 0; i--) {
      if ("running".equals(jobs.getJsonObject(i).getString("status"))) {
        return jobs.getJsonObject(i).getInteger("num");
      }
    }
    throw new IllegalStateException(
        "no running job at " + url + ": start one (serve trains the default job)");
  }

  /**
   * The job's latest step, from a short-lived subscription to its loss stream (job objects carry
   * the step of the last epoch end only).
   */
  long jobStep(int jobNum) throws Exception {
    Viewer probe = new Viewer(true);
    List<Viewer> one = new ArrayList<>(List.of(probe));
    WebSocket ws =
        wsClient
            .connect(
                new WebSocketConnectOptions()
                    .setHost(url.getHost())
                    .setPort(url.getPort())
                    .setURI("/ws"))
            .await(30, TimeUnit.SECONDS);
    AtomicLong step = new AtomicLong(-1);
    ws.textMessageHandler(
        text -> {
          if (text.startsWith("{\"type\":\"loss\"")) {
            JsonArray steps = new JsonObject(text).getJsonObject("columns").getJsonArray("step");
            if (!steps.isEmpty()) {
              step.set(steps.getLong(steps.size() - 1));
            }
          }
        });
    ws.writeTextMessage(
        new JsonObject()
            .put("type", "subscribe")
            .put("id", "probe")
            .put("job", jobNum)
            .put("streams", new JsonArray().add("loss"))
            .encode());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (step.get() < 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    probe.ws = ws;
    close(one);
    return step.get();
  }

  /** utime + stime of the server process, in clock ticks (1/100 s), or -1 without --pid. */
  long cpuTicks() throws IOException {
    return pid == null ? -1 : cpuTicks(pid);
  }

  /** User + system CPU of process {@code p} in clock ticks (1/100 s), from /proc/p/stat. */
  static long cpuTicks(long p) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + p + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // Fields after the command: state is index 0, so utime (field 14) is 11 and stime (15) is 12.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  static long percentile(List<Long> sorted, int p) {
    if (sorted.isEmpty()) {
      return -1;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }
}
