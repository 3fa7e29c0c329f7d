package dev.latentstream.server;

import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.ClusterNodes;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issue 21's hour of churn, on one box: a trainer JVM and a gateway JVM on a cluster, the load
 * generator in a process of its own running its soak ({@code --viewers} viewers, default 300,
 * {@code --churn} percent replaced every second, a fixed set of stayers checking their loss steps;
 * RSS, heap after GC, REST p99 of the gateway each minute), while this class is the supervisor:
 * every {@code --kill-every} minutes (default 15) it kills the trainer with {@code kill -9} and
 * starts it again at once, as systemd's {@code Restart=always} would, and the restarted node takes
 * its job back from the newest checkpoint. It prints per restart the seconds until training resumed
 * and the steps trained twice (the killed node's last committed row minus the checkpoint it resumed
 * from), the trainer's RSS each minute, and whether metrics.csv holds each step once. {@code
 * --minutes} (default 60) sets the length:
 *
 * <pre>
 * ./latentstream tool ChurnBenchmark --minutes 60 --kill-every 15
 * </pre>
 */
@Command(name = "ChurnBenchmark", mixinStandardHelpOptions = true)
public final class ChurnBenchmark implements Callable<Integer> {

  @Option(names = "--minutes", defaultValue = "60", description = "Length of the run.")
  double minutes;

  @Option(names = "--kill-every", defaultValue = "15", description = "Minutes between restarts.")
  double killEvery;

  @Option(names = "--viewers", defaultValue = "300", description = "Viewers of the soak.")
  int viewers;

  @Option(names = "--churn", defaultValue = "10", description = "Percent replaced a second.")
  int churn;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "60",
      description = "The job's checkpointEverySeconds.")
  int checkpointEvery;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ChurnBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try (ClusterNodes nodes = new ClusterNodes("churn-benchmark", 2)) {
      nodes.syntheticJob(
          "churn-bench",
          100_000,
          new JsonObject().put("checkpointEverySeconds", checkpointEvery).put("batchSize", 8));
      Path runs = Files.createDirectories(nodes.dir.resolve("runs"));
      int http = ClusterNodes.freePort();
      nodes.startTrainer("trainer", nodes.clusterPorts[0], runs);
      nodes.startGateway("gateway", nodes.clusterPorts[1], http, FailoverBenchmark.MANY_PER_IP);
      nodes.awaitLog("trainer", "trainer node is up", 300);
      nodes.awaitLog("gateway", "serving at", 300);
      JsonObject job =
          FailoverBenchmark.await(http, j -> j.getLong("step", 0L) > 20, 300, "the job stepping");
      Path csv = runs.resolve(job.getString("id")).resolve(MetricsCsv.FILE);
      Process load =
          FailoverBenchmark.loadGenerator(
              nodes.dir,
              "--url",
              "http://127.0.0.1:" + http,
              "--pid",
              Long.toString(nodes.process("gateway").pid()),
              "--job",
              Integer.toString(job.getInteger("num")),
              "--soak",
              Double.toString(minutes),
              "--viewers",
              Integer.toString(viewers),
              "--churn",
              Integer.toString(churn));
      ClusterNodes.awaitLine(nodes.dir.resolve("load.log"), "| start |", 300);

      List<String> restarts = new ArrayList<>();
      List<String> rss = new ArrayList<>();
      long t0 = System.nanoTime();
      long nextKill = t0 + (long) (killEvery * 60e9);
      long nextMinute = t0;
      while (load.isAlive()) {
        long now = System.nanoTime();
        if (now >= nextMinute) {
          rss.add(
              String.format(
                  Locale.ROOT,
                  "| %.0f | %s |",
                  (now - t0) / 60e9,
                  rssMb(nodes.process("trainer").pid())));
          nextMinute += TimeUnit.MINUTES.toNanos(1);
        }
        if (now >= nextKill) {
          nextKill += (long) (killEvery * 60e9);
          restarts.add(restart(nodes, runs, http, csv, restarts.size() + 1, (now - t0) / 60e9));
          System.out.println("churn-benchmark: " + restarts.getLast());
        }
        Thread.sleep(200);
      }
      double ranMinutes = (System.nanoTime() - t0) / 60e9;
      boolean cutShort = load.exitValue() != 0 || ranMinutes < minutes - 1;
      if (cutShort) {
        // The soak ended before its time: say why (its log goes with the temporary directory).
        List<String> log = Files.readAllLines(nodes.dir.resolve("load.log"));
        System.out.printf(
            Locale.ROOT,
            "churn-benchmark: the load generator ended after %.1f of %.1f min with exit code %d;"
                + " the end of its log:%n",
            ranMinutes,
            minutes,
            load.exitValue());
        log.subList(Math.max(0, log.size() - 40), log.size())
            .forEach(l -> System.out.println("  " + l));
      }
      List<MetricsCsv.Row> all = MetricsCsv.read(csv).rows();
      long wrong = 0;
      for (int i = 0; i < all.size(); i++) {
        wrong += all.get(i).step() == i + 1 ? 0 : 1;
      }
      System.out.printf(
          Locale.ROOT,
          "churn-benchmark: %.1f min, %d viewers, %d %% churn a second, a kill -9 and restart every"
              + " %.1f min, checkpointEverySeconds %d%n",
          minutes,
          viewers,
          churn,
          killEvery,
          checkpointEvery);
      System.out.println(
          "| restart | at min | s to resume | last row committed | resumed at step | steps trained twice |");
      System.out.println("|---|---|---|---|---|---|");
      restarts.forEach(System.out::println);
      System.out.println("| minute | trainer RSS MB |");
      System.out.println("|---|---|");
      rss.forEach(System.out::println);
      System.out.printf(
          Locale.ROOT,
          "churn-benchmark: metrics.csv %d rows, %s%n",
          all.size(),
          wrong == 0 ? "each step once from 1" : wrong + " rows out of place");
      System.out.println("churn-benchmark: the load generator's soak (gateway process):");
      boolean table = false;
      for (String line : Files.readAllLines(nodes.dir.resolve("load.log"))) {
        table |= line.startsWith("soak:") || line.startsWith("|");
        if (table && (line.startsWith("|") || line.startsWith("soak:"))) {
          System.out.println(line);
        }
      }
      System.out.println(
          "churn-benchmark: load average " + Files.readString(Path.of("/proc/loadavg")).strip());
      if (cutShort) {
        return 1;
      }
    }
    return 0;
  }

  /** kill -9 of the trainer, then a new one at once; returns the restart's table row. */
  private static String restart(
      ClusterNodes nodes, Path runs, int http, Path csv, int n, double atMinute) throws Exception {
    long inode = FailoverBenchmark.inode(csv);
    int failovers = ClusterNodes.job(http).getInteger("failovers", 0);
    long killedAt = System.nanoTime();
    nodes.kill("trainer");
    long lastCommitted = ClusterNodes.lastRow(csv.getParent());
    nodes.startTrainer("trainer", nodes.clusterPorts[0], runs);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
    JsonObject j;
    while (true) {
      j = ClusterNodes.job(http);
      long resumedAt = j.getLong("resumedAtStep", -1L);
      if (resumedAt >= 0
          && j.getInteger("failovers", 0) > failovers
          && FailoverBenchmark.inode(csv) != inode
          && ClusterNodes.lastRow(csv.getParent()) > resumedAt) {
        break;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("restart " + n + ": no new row within 300 s; job " + j);
      }
      Thread.sleep(100);
    }
    long resumedAt = j.getLong("resumedAtStep");
    return String.format(
        Locale.ROOT,
        "| %d | %.1f | %.1f | %d | %d | %d |",
        n,
        atMinute,
        (System.nanoTime() - killedAt) / 1e9,
        lastCommitted,
        resumedAt,
        Math.max(0, lastCommitted - resumedAt));
  }

  private static String rssMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format(Locale.ROOT, "%.0f", kb / 1024.0);
        }
      }
    } catch (Exception e) {
      // the trainer is restarting
    }
    return "–";
  }
}
