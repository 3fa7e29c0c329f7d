package dev.latentstream.load;

import dev.latentstream.load.LoadGenerator.Viewer;
import io.vertx.core.Future;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * Issue 9's soak and churn benchmark: {@code --viewers} viewers subscribed to every stream; every
 * second {@code --churn} percent of them disconnect and as many new ones connect. A fixed set of
 * stayers (never churned) parse every loss message: after their history, their {@code step}
 * sequence must have no gap. At the start, every minute and at the end it reports the server's RSS
 * ({@code /proc/PID/status}), its heap after a forced GC ({@code jcmd PID GC.run}, then {@code
 * GC.heap_info}), the stayers' missed loss points, REST p99 from a side client polling {@code
 * /api/jobs}, clients the server closed, and the training rate.
 */
final class Soak {

  @Option(
      names = "--soak",
      paramLabel = "MINUTES",
      defaultValue = "0",
      description = "Run the soak and churn benchmark for MINUTES.")
  double minutes;

  @Option(
      names = "--viewers",
      defaultValue = "200",
      description = "Soak: viewers connected at any time.")
  int viewers;

  @Option(
      names = "--churn",
      paramLabel = "PCT",
      defaultValue = "10",
      description = "Soak: percent of the viewers replaced every second.")
  double churn;

  @Option(
      names = "--stayers",
      defaultValue = "10",
      description = "Soak: viewers that stay the whole run and check their loss steps.")
  int stayers;

  @Option(
      names = "--soak-warmup",
      defaultValue = "10",
      description = "Soak: seconds after connecting before the start figures.")
  int warmup;

  boolean enabled() {
    return minutes > 0;
  }

  /** One line of figures. */
  record Snapshot(
      String label,
      int connected,
      long rssKb,
      long heapKb,
      long missed,
      long restP99,
      long closed,
      double stepsPerSecond) {
    String row() {
      return String.format(
          Locale.ROOT,
          "| %s | %d | %s | %s | %d | %d | %d | %.1f |",
          label,
          connected,
          mb(rssKb),
          mb(heapKb),
          missed,
          restP99,
          closed,
          stepsPerSecond);
    }
  }

  private final List<Viewer> stay = new ArrayList<>();
  private final List<Viewer> churning = new ArrayList<>();

  /** Churned viewers the server closed (they leave {@link #churning} when replaced). */
  private long churnedClosed;

  /** Churn seconds whose closes and connects took longer than {@link #CHURN_WAIT_SECONDS}. */
  private long slowChurns;

  private static final int CHURN_WAIT_SECONDS = 5;

  /**
   * Churned viewers whose join was checked, those with a gap there, and the steps those gaps lost.
   */
  private long joinsChecked;

  private long joinGaps;
  private long joinMissed;

  /** Every REST time after the start figures. */
  private final List<Long> allRest = new ArrayList<>();

  private final AtomicLong connectFailures = new AtomicLong();
  private volatile String lastConnectFailure;

  /** What is wrong with the options, or null. */
  String invalid() {
    if (!enabled()) {
      return null;
    }
    if (viewers < 1 || stayers < 1 || warmup < 0 || !(churn >= 0 && churn <= 100)) {
      return "--viewers and --stayers must be at least 1, --soak-warmup at least 0 and --churn from 0 to 100";
    }
    int stayCount = Math.min(stayers, viewers);
    int perSecond = (int) Math.round(viewers * churn / 100.0);
    if (perSecond > viewers - stayCount) {
      return "--churn "
          + churn
          + " % of "
          + viewers
          + " viewers is "
          + perSecond
          + " a second, more than the "
          + (viewers - stayCount)
          + " that are not stayers (--stayers "
          + stayers
          + ")";
    }
    return null;
  }

  void run(LoadGenerator g, int jobNum) throws Exception {
    int stayCount = Math.min(stayers, viewers);
    int perSecond = (int) Math.round(viewers * churn / 100.0);
    System.out.printf(
        Locale.ROOT,
        "soak: %s job %d: %d viewers (%d stay the whole run), %d replaced every second, %.1f min%n",
        g.url,
        jobNum,
        viewers,
        stayCount,
        perSecond,
        minutes);
    List<Future<?>> pending = new ArrayList<>();
    for (int i = 0; i < viewers; i++) {
      Viewer v = i < stayCount ? new Viewer(true) : newChurner();
      (i < stayCount ? stay : churning).add(v);
      pending.add(connect(g, v, jobNum));
    }
    Future.join(new ArrayList<>(pending)).await(120, TimeUnit.SECONDS);
    // The start figures count from the stayers' histories: until then their latest step is unknown.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (stay.stream().anyMatch(v -> v.lastStep < 0 && !v.closedByServer)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    LoadGenerator.Rest rest = g.new Rest();
    rest.start();
    long[] mark = {System.nanoTime(), stayerStep()};
    Thread.sleep(TimeUnit.SECONDS.toMillis(warmup));
    System.out.println(
        "| at | connected | server RSS MB | heap after GC MB | stayers' missed loss points | REST p99 ms | closed by server | steps/s |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    Snapshot start = snapshot(g, "start", rest, mark);
    System.out.println(start.row());

    SplittableRandom random = new SplittableRandom(9);
    long t0 = System.nanoTime();
    long end = t0 + (long) (minutes * 60e9);
    long nextMinute = t0 + TimeUnit.MINUTES.toNanos(1);
    int minute = 0;
    long tick = t0;
    while (System.nanoTime() < end) {
      tick += TimeUnit.SECONDS.toNanos(1);
      churnOnce(g, jobNum, perSecond, random);
      if (System.nanoTime() >= nextMinute && System.nanoTime() < end) {
        minute++;
        nextMinute += TimeUnit.MINUTES.toNanos(1);
        Snapshot s = snapshot(g, minute + " min", rest, mark);
        System.out.println(s.row());
      }
      long wait = tick - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(wait));
      }
    }
    Snapshot last = snapshot(g, "end", rest, mark);
    System.out.println(last.row());
    rest.stop();
    long stayersClosed = stay.stream().filter(v -> v.closedByServer).count();
    g.close(stay);
    g.close(churning);

    System.out.printf(
        Locale.ROOT,
        "%nsoak: %d viewers, %.0f %% churn a second, %.1f min, job %d%n%n",
        viewers,
        churn,
        minutes,
        jobNum);
    System.out.println("| | start | end |");
    System.out.println("|---|---|---|");
    System.out.printf(
        Locale.ROOT, "| server RSS MB | %s | %s |%n", mb(start.rssKb()), mb(last.rssKb()));
    System.out.printf(
        Locale.ROOT,
        "| heap after forced GC MB | %s | %s |%n",
        mb(start.heapKb()),
        mb(last.heapKb()));
    System.out.printf(
        Locale.ROOT,
        "| loss points missed by the %d stayers | %d | %d |%n",
        stayCount,
        start.missed(),
        last.missed());
    System.out.printf(
        Locale.ROOT,
        "| of them, between history and live (at connect) | | %d |%n",
        stay.stream().mapToLong(v -> v.missedAtJoin).sum());
    System.out.printf(
        Locale.ROOT,
        "| loss points repeated or out of order for the stayers | | %d |%n",
        stay.stream().mapToLong(v -> v.repeated).sum());
    System.out.printf(
        Locale.ROOT, "| REST p99 ms (last minute) | %d | %d |%n", start.restP99(), last.restP99());
    allRest.sort(null);
    System.out.printf(
        Locale.ROOT,
        "| REST p99 / max ms (whole run, %d requests) | | %d / %d |%n",
        allRest.size(),
        LoadGenerator.percentile(allRest, 99),
        allRest.isEmpty() ? -1 : allRest.getLast());
    System.out.printf(
        Locale.ROOT, "| clients closed by the server | %d | %d |%n", start.closed(), last.closed());
    System.out.printf(
        Locale.ROOT,
        "| churn seconds whose connects took over %d s | | %d |%n",
        CHURN_WAIT_SECONDS,
        slowChurns);
    System.out.printf(
        Locale.ROOT, "| steps/s | %.1f | %.1f |%n", start.stepsPerSecond(), last.stepsPerSecond());
    if (stayersClosed > 0) {
      System.out.printf(
          Locale.ROOT,
          "soak: %d stayers were closed by the server (e.g. %s); their missed points are counted up to"
              + " the close%n",
          stayersClosed,
          stay.stream().filter(v -> v.closedByServer).findFirst().orElseThrow().closeReason);
    }
    System.out.printf(
        Locale.ROOT,
        "soak: newcomers whose history and live points met with a gap: %d of %d checked (%d steps lost)%n",
        joinGaps,
        joinsChecked,
        joinMissed);
    stay.stream()
        .map(v -> v.firstAnomaly)
        .filter(x -> x != null)
        .findFirst()
        .ifPresent(x -> System.out.println("soak: the first stayer's gap or repeat: " + x));
    if (connectFailures.get() > 0) {
      System.out.printf(
          Locale.ROOT,
          "soak: %d connections failed, the last: %s%n",
          connectFailures.get(),
          lastConnectFailure);
    }
  }

  /**
   * A churning viewer checks only where its history meets its live points, which costs one parse or
   * two.
   */
  private static Viewer newChurner() {
    Viewer v = new Viewer(false);
    v.joinOnly = true;
    return v;
  }

  private Future<?> connect(LoadGenerator g, Viewer v, int jobNum) {
    return g.connect(v, jobNum)
        .onFailure(
            e -> {
              connectFailures.incrementAndGet();
              lastConnectFailure = String.valueOf(e);
            });
  }

  /**
   * Closes {@code n} random churning viewers and connects as many new ones, waiting at most a few
   * seconds.
   */
  private void churnOnce(LoadGenerator g, int jobNum, int n, SplittableRandom random)
      throws Exception {
    List<Viewer> leaving = new ArrayList<>();
    for (int i = 0; i < n && !churning.isEmpty(); i++) {
      leaving.add(churning.remove(random.nextInt(churning.size())));
    }
    for (Viewer v : leaving) {
      churnedClosed += v.closedByServer ? 1 : 0;
    }
    List<Future<?>> pending = new ArrayList<>(LoadGenerator.closeAsync(leaving));
    for (Viewer v : leaving) {
      if (v.joined) {
        joinsChecked++;
        joinGaps += v.missedAtJoin > 0 ? 1 : 0;
        joinMissed += v.missedAtJoin;
      }
    }
    for (int i = 0; i < leaving.size(); i++) {
      Viewer v = newChurner();
      churning.add(v);
      pending.add(connect(g, v, jobNum));
    }
    try {
      Future.join(new ArrayList<>(pending)).await(CHURN_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // A slow second (a loaded machine, a restarting node) is counted, not fatal: the newcomers
      // still connect, and each is checked for a gap when it leaves.
      slowChurns++;
    }
  }

  private Snapshot snapshot(LoadGenerator g, String label, LoadGenerator.Rest rest, long[] mark)
      throws Exception {
    long now = System.nanoTime();
    long step = stayerStep();
    double rate = (step - mark[1]) / ((now - mark[0]) / 1e9);
    mark[0] = now;
    mark[1] = step;
    long missed = stay.stream().mapToLong(v -> v.missed + v.missedAtJoin).sum();
    long closed =
        churnedClosed
            + stay.stream().filter(v -> v.closedByServer).count()
            + churning.stream().filter(v -> v.closedByServer).count();
    int connected =
        (int)
            (stay.stream().filter(Soak::open).count()
                + churning.stream().filter(Soak::open).count());
    List<Long> restMillis = rest.drain();
    if (!label.equals("start")) {
      allRest.addAll(restMillis);
    }
    return new Snapshot(
        label,
        connected,
        rssKb(g.pid),
        heapAfterGcKb(g.pid),
        missed,
        LoadGenerator.percentile(restMillis, 99),
        closed,
        rate);
  }

  private static boolean open(Viewer v) {
    return v.ws != null && !v.ws.isClosed();
  }

  /** The newest step any stayer has seen (the stayers parse every loss message). */
  private long stayerStep() {
    return stay.stream().mapToLong(v -> v.lastStep).max().orElse(-1);
  }

  static long rssKb(Long pid) throws IOException {
    if (pid == null) {
      return -1;
    }
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }

  private static final Pattern USED = Pattern.compile("used (\\d+)([KMG])");

  /**
   * The heap in use right after a full collection: {@code jcmd PID GC.run}, then the first "used"
   * figure of {@code jcmd PID GC.heap_info} (the whole heap's line for G1, Serial, Parallel and ZGC
   * alike).
   */
  static long heapAfterGcKb(Long pid) throws Exception {
    if (pid == null) {
      return -1;
    }
    String info;
    try {
      jcmd(pid, "GC.run");
      info = jcmd(pid, "GC.heap_info");
    } catch (IOException e) {
      // Another user's JVM, or attach disabled: the other figures are still worth having.
      System.out.println("soak: no heap figure: " + e.getMessage());
      return -1;
    }
    Matcher m = USED.matcher(info);
    if (!m.find()) {
      System.out.println("soak: no heap figure: no \"used\" in jcmd GC.heap_info: " + info.strip());
      return -1;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "G" -> n << 20;
      case "M" -> n << 10;
      default -> n;
    };
  }

  private static String jcmd(long pid, String command) throws Exception {
    // The JDK that runs this process has jcmd beside its java; the server runs on the same JDK.
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jcmd = Path.of(java).resolveSibling("jcmd");
    Process p =
        new ProcessBuilder(
                Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", Long.toString(pid), command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("jcmd " + pid + " " + command + " failed: " + out.strip());
    }
    return out;
  }

  private static String mb(long kb) {
    return kb < 0 ? "–" : String.format(Locale.ROOT, "%.0f", kb / 1024.0);
  }
}
