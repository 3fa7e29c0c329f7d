package dev.latentstream.load;

import io.vertx.core.Handler;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * Issue 9's "a decode flood stops training": one client sends {@code --flood-rate} interactive
 * requests per second (by default {@code decode} with 256 plane points each) for {@code
 * --flood-seconds}, and training's step rate is compared with a baseline taken just before in the
 * same run, with one quiet viewer.
 *
 * <p>Step rates come from the {@code time} column of the quiet viewer's loss stream: the server
 * stamps each step when it happens, so a window's rate is exact even when this process reads the
 * stream late (the flood's replies can keep its event loops busy). The recovery time is from the
 * end of the flood to the start of the first {@code --recovery-window} in which the rate is back to
 * 90% of the baseline.
 */
final class DecodeFlood {

  @Option(
      names = "--decode-flood",
      description = "Run the interactive-request flood benchmark (see --flood-op).")
  boolean decodeFlood;

  enum Op {
    decode,
    encode
  }

  @Option(
      names = "--flood-op",
      defaultValue = "decode",
      description =
          "decode (plane points per request: --flood-points) or encode (images per request: --flood-images).")
  Op op;

  @Option(
      names = "--baseline-seconds",
      defaultValue = "15",
      description = "Baseline measured before the flood.")
  int baselineSeconds;

  @Option(names = "--flood-seconds", defaultValue = "10", description = "How long the flood lasts.")
  int floodSeconds;

  @Option(
      names = "--flood-rate",
      defaultValue = "200",
      description = "Requests per second from the flooding client.")
  int rate;

  @Option(
      names = "--flood-points",
      defaultValue = "256",
      description = "Plane points per decode request.")
  int points;

  @Option(
      names = "--flood-images",
      defaultValue = "20",
      description = "28x28 images per encode request.")
  int images;

  @Option(
      names = "--flood-warmup",
      defaultValue = "3",
      description =
          "Seconds of flood before the baseline, then --settle-seconds of quiet: both processes' code is"
              + " compiled before anything is measured, as in a server that has run for a while (0 for none).")
  int warmupSeconds;

  @Option(
      names = "--settle-seconds",
      defaultValue = "10",
      description = "Quiet after the warm-up flood.")
  int settleSeconds;

  @Option(
      names = "--recovery-window",
      defaultValue = "1",
      description = "Seconds a recovered rate must hold.")
  double recoveryWindow;

  @Option(
      names = "--recovery-max",
      defaultValue = "60",
      description = "Give up waiting for recovery after these seconds.")
  int recoveryMax;

  boolean enabled() {
    return decodeFlood;
  }

  /**
   * Server time (ms) of each live step the quiet viewer saw, in arrival order (steps arrive in
   * order).
   */
  private final List<long[]> steps = new ArrayList<>();

  /**
   * The latest latent plane's range [u0, u1, v0, v1], from the quiet viewer's {@code plane}
   * messages.
   */
  private volatile double[] range = {-3, 3, -3, 3};

  // What the flooding client got back; written on its event loop.
  private final LongAdder sent = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder busy = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final Map<Long, LongAdder> retryHints = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> otherErrors = new ConcurrentHashMap<>();

  /**
   * Busy replies by where the request was refused (the text before the first figure of the
   * message).
   */
  private final Map<String, LongAdder> busyReasons = new ConcurrentHashMap<>();

  /** Busy replies whose message says "retry in N ms" with N other than their retryAfterMs. */
  private final LongAdder hintMismatches = new LongAdder();

  private static final Pattern RETRY_IN = Pattern.compile("retry in (\\d+) ms");
  private final AtomicLong floodClosed = new AtomicLong();
  private volatile String floodCloseReason;
  private volatile boolean flooderClosing;

  /** What is wrong with the options, or null. */
  String invalid() {
    if (baselineSeconds < 1
        || floodSeconds < 1
        || rate < 1
        || points < 1
        || images < 1
        || recoveryWindow <= 0
        || recoveryMax < 1
        || warmupSeconds < 0
        || settleSeconds < 0) {
      return "--baseline-seconds, --flood-seconds, --flood-rate, --flood-points, --flood-images, --recovery-window and"
          + " --recovery-max must be above 0";
    }
    return null;
  }

  void run(LoadGenerator g, int jobNum) throws Exception {
    if (op == Op.encode && images * 28 * 28 * 2 > 65_536) {
      System.out.println(
          "flood: note: "
              + images
              + " images per encode exceed the server's default maxMessageBytes");
    }
    String what = op == Op.decode ? points + " plane points" : images + " images";
    System.out.printf(
        Locale.ROOT,
        "flood: %s job %d: baseline %d s with one quiet viewer, then %d %s requests/s of %s for %d s%n",
        g.url,
        jobNum,
        baselineSeconds,
        rate,
        op,
        what,
        floodSeconds);
    WebSocket quiet = quietViewer(g, jobNum);
    try {
      waitForSteps(30_000);
      // Payloads built before the flood, so that building them does not slow the sender down.
      SplittableRandom random = new SplittableRandom(9);
      String[] payloads = new String[64];
      for (int i = 0; i < payloads.length; i++) {
        payloads[i] = payload(random);
      }
      if (warmupSeconds > 0) {
        WebSocket warm = floodClient(g, false);
        send(g, warm, jobNum, payloads, warmupSeconds, "w");
        warm.close();
        Thread.sleep(TimeUnit.SECONDS.toMillis(settleSeconds));
        System.out.printf(
            Locale.ROOT,
            "flood: warmed up with %d s of flood and %d s of quiet%n",
            warmupSeconds,
            settleSeconds);
      }
      long b0 = System.currentTimeMillis();
      long cpuB0 = g.cpuTicks();
      long selfB0 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());
      Thread.sleep(TimeUnit.SECONDS.toMillis(baselineSeconds));
      long b1 = System.currentTimeMillis();
      long cpuB1 = g.cpuTicks();
      long selfB1 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());

      WebSocket flooder = floodClient(g, true);
      long f0 = System.currentTimeMillis();
      long cpuF0 = g.cpuTicks();
      long selfF0 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());
      flooder = send(g, flooder, jobNum, payloads, floodSeconds, "f");
      long f1 = System.currentTimeMillis();
      long cpuF1 = g.cpuTicks();
      long selfF1 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());

      double baseline = rate(b0, b1);
      long recovery = recovery(f1, baseline);
      long[] sb = count(b0, b1);
      long[] sf = count(f0, f1);
      // Late replies still arrive during the recovery; give the last ones a moment.
      Thread.sleep(1000);
      flooderClosing = true;
      flooder.close();
      double during = rate(f0, f1);
      // CPU per wall second of the server and of this process: on one machine they share the cores.
      System.out.println(
          "| | steps/s | server CPU ms/step | server CPU ms/s | load generator CPU ms/s |");
      System.out.println("|---|---|---|---|---|");
      System.out.printf(
          Locale.ROOT,
          "| baseline (%d s) | %.1f | %s | %s | %.0f |%n",
          baselineSeconds,
          baseline,
          cpuPerStep(cpuB0, cpuB1, sb[0]),
          perSecond(cpuB0, cpuB1, b1 - b0),
          (selfB1 - selfB0) * 10_000.0 / (b1 - b0));
      System.out.printf(
          Locale.ROOT,
          "| %s flood (%d s) | %.1f (%.0f %% of baseline) | %s | %s | %.0f |%n",
          op,
          floodSeconds,
          during,
          100 * during / baseline,
          cpuPerStep(cpuF0, cpuF1, sf[0]),
          perSecond(cpuF0, cpuF1, f1 - f0),
          (selfF1 - selfF0) * 10_000.0 / (f1 - f0));
      System.out.printf(
          Locale.ROOT,
          "flood: sent %d requests (%.0f/s); replies ok %d, busy %d (retryAfterMs seen: %s), other errors %s%n",
          sent.sum(),
          sent.sum() * 1000.0 / (f1 - f0),
          ok.sum(),
          busy.sum(),
          hints(),
          otherErrors());
      if (sent.sum() < 0.9 * rate * floodSeconds) {
        System.out.println(
            "flood: the sender fell behind its rate (this machine is too busy): the figures are for a lighter flood");
      }
      Map<String, Long> reasons = new TreeMap<>();
      busyReasons.forEach((k, v) -> reasons.put(k, v.sum()));
      reasons.forEach((k, v) -> System.out.printf(Locale.ROOT, "flood:   busy %d× \"%s\"%n", v, k));
      if (hintMismatches.sum() > 0) {
        System.out.printf(
            Locale.ROOT,
            "flood: %d busy replies say \"retry in N ms\" in their message with another retryAfterMs%n",
            hintMismatches.sum());
      }
      System.out.printf(
          Locale.ROOT,
          "flood: the flooding client received %.1f MB; closed by the server %d times%s%n",
          bytes.sum() / 1e6,
          floodClosed.get(),
          floodCloseReason == null ? "" : " (last: " + floodCloseReason + ")");
      System.out.println(
          recovery < 0
              ? String.format(
                  Locale.ROOT,
                  "flood: training did not recover to 90 %% of baseline within %d s",
                  recoveryMax)
              : String.format(
                  Locale.ROOT,
                  "flood: recovery to >= 90 %% of baseline (%.1f steps/s over %.1f s): %.1f s after the flood",
                  0.9 * baseline,
                  recoveryWindow,
                  recovery / 1000.0));
    } finally {
      quiet.close();
    }
  }

  /**
   * Sends {@code rate} requests a second for {@code seconds}, paced by the clock, not by replies: a
   * flooder does not wait for answers. Returns the socket in use at the end (a closed one is
   * replaced).
   */
  private WebSocket send(
      LoadGenerator g,
      WebSocket flooder,
      int jobNum,
      String[] payloads,
      int seconds,
      String idPrefix)
      throws Exception {
    long floodNanos = TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();
    long due = 0;
    long id = 0;
    boolean counted = idPrefix.equals("f");
    while (System.nanoTime() - start < floodNanos) {
      long target = (System.nanoTime() - start) * rate / 1_000_000_000L;
      for (; due < target && System.nanoTime() - start < floodNanos; due++) {
        if (flooder.isClosed()) {
          flooder = floodClient(g, counted);
        }
        flooder.writeTextMessage(
            "{\"type\":\""
                + op
                + "\",\"id\":\""
                + idPrefix
                + id
                + "\",\"job\":"
                + jobNum
                + payloads[(int) (id++ % payloads.length)]);
        if (counted) {
          sent.increment();
        }
      }
      Thread.sleep(2);
    }
    return flooder;
  }

  /**
   * The part of a request after its job number: the plane points or the pixels, and the closing
   * brace.
   */
  private String payload(SplittableRandom random) {
    StringBuilder b = new StringBuilder(40_000);
    if (op == Op.decode) {
      double[] r = range;
      b.append(",\"plane\":[");
      for (int i = 0; i < points; i++) {
        b.append(i == 0 ? "[" : ",[");
        b.append(
            String.format(
                Locale.ROOT,
                "%.3f,%.3f",
                r[0] + random.nextDouble() * (r[1] - r[0]),
                r[2] + random.nextDouble() * (r[3] - r[2])));
        b.append(']');
      }
    } else {
      // Whole 0/1 pixels keep 20 images under the default maxMessageBytes (65536).
      b.append(",\"pixels\":[");
      for (int i = 0; i < images * 28 * 28; i++) {
        b.append(i == 0 ? "" : ",").append(random.nextInt(4) == 0 ? '1' : '0');
      }
    }
    return b.append("]}").toString();
  }

  /**
   * The quiet viewer: loss for the step times, latent for the plane's range. It never sends a
   * request.
   */
  private WebSocket quietViewer(LoadGenerator g, int jobNum) throws Exception {
    return quietSocket(
        g,
        jobNum,
        text -> {
          if (text.startsWith("{\"type\":\"loss\"")) {
            JsonObject cols = new JsonObject(text).getJsonObject("columns");
            JsonArray s = cols.getJsonArray("step");
            JsonArray t = cols.getJsonArray("time");
            synchronized (steps) {
              for (int i = 0; i < s.size(); i++) {
                if (t.getValue(i) instanceof Number n) {
                  steps.add(new long[] {s.getLong(i), n.longValue()});
                }
              }
            }
          } else if (text.startsWith("{\"type\":\"plane\"")) {
            JsonArray r = new JsonObject(text).getJsonArray("range");
            range = new double[] {r.getDouble(0), r.getDouble(1), r.getDouble(2), r.getDouble(3)};
          }
        });
  }

  /**
   * A socket on job {@code jobNum}'s loss and latent streams that never sends a request, each text
   * message going to {@code onText}: how the load tools watch training without adding to its load.
   */
  static WebSocket quietSocket(LoadGenerator g, int jobNum, Handler<String> onText)
      throws Exception {
    WebSocket ws = g.wsClient.connect(g.wsOptions()).await(30, TimeUnit.SECONDS);
    ws.binaryMessageHandler(b -> {});
    ws.textMessageHandler(onText);
    ws.writeTextMessage(
        new JsonObject()
            .put("type", "subscribe")
            .put("id", "quiet")
            .put("job", jobNum)
            .put("streams", new JsonArray().add("loss").add("latent"))
            .encode());
    return ws;
  }

  /** A flooding socket; {@code counted} false for the warm-up, whose replies are not counted. */
  private WebSocket floodClient(LoadGenerator g, boolean counted) throws Exception {
    WebSocket ws = g.wsClient.connect(g.wsOptions()).await(30, TimeUnit.SECONDS);
    if (!counted) {
      ws.binaryMessageHandler(b -> {});
      ws.textMessageHandler(
          text -> {
            if (text.startsWith("{\"type\":\"error\"")) {
              new JsonObject(
                  text); // parsed as the counted flood does, so the same code is compiled
            }
          });
      return ws;
    }
    ws.closeHandler(
        v -> {
          if (flooderClosing) {
            return;
          }
          floodClosed.incrementAndGet();
          floodCloseReason = ws.closeStatusCode() + " " + ws.closeReason();
        });
    ws.binaryMessageHandler(b -> bytes.add(b.length()));
    ws.textMessageHandler(
        text -> {
          bytes.add(text.length());
          if (text.startsWith("{\"type\":\"decoded\"")
              || text.startsWith("{\"type\":\"encoded\"")) {
            ok.increment();
          } else if (text.startsWith("{\"type\":\"error\"")) {
            JsonObject e = new JsonObject(text);
            if ("busy".equals(e.getString("code"))) {
              busy.increment();
              retryHints
                  .computeIfAbsent(e.getLong("retryAfterMs", -1L), k -> new LongAdder())
                  .increment();
              String message = String.valueOf(e.getString("message"));
              busyReasons.computeIfAbsent(reason(message), k -> new LongAdder()).increment();
              Matcher m = RETRY_IN.matcher(message);
              if (m.find() && Long.parseLong(m.group(1)) != e.getLong("retryAfterMs", -1L)) {
                hintMismatches.increment();
              }
            } else {
              otherErrors
                  .computeIfAbsent(
                      e.getString("code") + ": " + e.getString("message"), k -> new LongAdder())
                  .increment();
            }
          }
        });
    return ws;
  }

  private void waitForSteps(long timeoutMs) throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < end) {
      synchronized (steps) {
        if (steps.size() > 1) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "no loss points from the job within " + timeoutMs + " ms: is it training?");
  }

  /** Steps whose server time is in [from, to) and the latest server time seen. */
  private long[] count(long from, long to) {
    long n = 0;
    long latest = -1;
    synchronized (steps) {
      for (long[] st : steps) {
        if (st[1] >= from && st[1] < to) {
          n++;
        }
        latest = Math.max(latest, st[1]);
      }
    }
    return new long[] {n, latest};
  }

  private double rate(long from, long to) {
    return count(from, to)[0] * 1000.0 / (to - from);
  }

  /**
   * Milliseconds from {@code floodEnd} to the start of the first window of {@code
   * --recovery-window} seconds with at least 90% of the baseline rate, tried every 100 ms; -1 if
   * none starts within {@code --recovery-max} s.
   */
  private long recovery(long floodEnd, double baseline) throws InterruptedException {
    long window = (long) (recoveryWindow * 1000);
    long deadline = floodEnd + TimeUnit.SECONDS.toMillis(recoveryMax);
    for (long t = floodEnd; t <= deadline; t += 100) {
      // A window is judged once a later step shows the stream has passed its end, or time has run
      // well past it.
      while (count(0, Long.MAX_VALUE)[1] < t + window
          && System.currentTimeMillis() < t + window + 5_000) {
        Thread.sleep(50);
      }
      if (rate(t, t + window) >= 0.9 * baseline) {
        return t - floodEnd;
      }
    }
    return -1;
  }

  private static String perSecond(long cpu0, long cpu1, long millis) {
    return cpu0 < 0
        ? "–"
        : String.format(Locale.ROOT, "%.0f", (cpu1 - cpu0) * 10_000.0 / Math.max(1, millis));
  }

  private static String cpuPerStep(long cpu0, long cpu1, long steps) {
    return cpu0 < 0
        ? "–"
        : String.format(Locale.ROOT, "%.1f", (cpu1 - cpu0) * 10.0 / Math.max(1, steps));
  }

  /**
   * "the trainer already has 16 interactive requests waiting ..." → "the trainer already has N
   * interactive ...".
   */
  private static String reason(String message) {
    String r = message.replaceAll("\\d+(\\.\\d+)?", "N");
    return r.length() > 70 ? r.substring(0, 70) + "…" : r;
  }

  private String hints() {
    Map<Long, Long> sorted = new TreeMap<>();
    retryHints.forEach((k, v) -> sorted.put(k, v.sum()));
    if (sorted.size() <= 8) {
      return sorted.isEmpty() ? "none" : sorted.toString();
    }
    // Many distinct hints (the trainer's own estimates): their spread says more than the list.
    List<Long> all = new ArrayList<>();
    sorted.forEach(
        (k, n) -> {
          for (long i = 0; i < n; i++) {
            all.add(k);
          }
        });
    return String.format(
        Locale.ROOT,
        "%d distinct, min %d, p50 %d, max %d",
        sorted.size(),
        all.getFirst(),
        LoadGenerator.percentile(all, 50),
        all.getLast());
  }

  private String otherErrors() {
    Map<String, Long> sorted = new TreeMap<>();
    otherErrors.forEach((k, v) -> sorted.put(k, v.sum()));
    return sorted.isEmpty() ? "none" : sorted.toString();
  }
}
