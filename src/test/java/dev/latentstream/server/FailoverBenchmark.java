package dev.latentstream.server;

import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.ClusterNodes;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Issue 21's failover figures: two trainer JVMs on one runs directory (a failover group), two
 * gateway JVMs, and {@code --viewers} viewers (default 200) spread over the gateways by the load
 * generator in a process of its own ({@code LoadGenerator --failover}: browsers' permessage-deflate
 * offered, the page's reconnect back-off). The node that trains the job is killed with {@code kill
 * -9} at a random moment, {@code --kills} times (default 3), and started again (with {@code
 * --no-job}) once the other has the job. Per kill it prints the seconds until training resumed on
 * the other node (its first new row in metrics.csv), the steps lost (the last row the killed node
 * committed minus the checkpoint the other resumed from); then whether metrics.csv holds each step
 * once, and what the viewers saw: closed against reconnected, histories, loss points missing or
 * repeated after their new history. Needs the test classpath:
 *
 * <pre>
 * ./latentstream tool FailoverBenchmark --viewers 200 --kills 3
 * </pre>
 */
@Command(name = "FailoverBenchmark", mixinStandardHelpOptions = true)
public final class FailoverBenchmark implements Callable<Integer> {

  @Option(names = "--viewers", defaultValue = "200", description = "Viewers on the two gateways.")
  int viewers;

  @Option(names = "--kills", defaultValue = "3", description = "kill -9s of the job's node.")
  int kills;

  @Option(
      names = "--checkpoint-every",
      defaultValue = "10",
      description = "The job's checkpointEverySeconds.")
  int checkpointEvery;

  @Option(names = "--seed", description = "Seeds the moments of the kills (default: the clock).")
  long seed = System.nanoTime();

  public static void main(String[] args) {
    System.exit(new CommandLine(new FailoverBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Random random = new Random(seed);
    try (ClusterNodes nodes = new ClusterNodes("failover-benchmark", 4)) {
      nodes.syntheticJob(
          "failover-bench",
          100_000,
          new JsonObject().put("checkpointEverySeconds", checkpointEvery).put("batchSize", 8));
      Path runs = Files.createDirectories(nodes.dir.resolve("runs"));
      int http1 = ClusterNodes.freePort();
      int http2 = ClusterNodes.freePort();
      String[] names = {"a", "b"};
      nodes.startTrainer("a", nodes.clusterPorts[0], runs);
      nodes.startTrainer("b", nodes.clusterPorts[1], runs, "--no-job");
      nodes.startGateway("gateway1", nodes.clusterPorts[2], http1, MANY_PER_IP);
      nodes.startGateway("gateway2", nodes.clusterPorts[3], http2, MANY_PER_IP);
      for (String n : List.of("a", "b")) {
        nodes.awaitLog(n, "trainer node is up", 300);
      }
      nodes.awaitLog("gateway1", "serving at", 300);
      nodes.awaitLog("gateway2", "serving at", 300);
      JsonObject job = await(http1, j -> j.getLong("step", 0L) > 20, 300, "the job stepping");
      String id = job.getString("id");
      Path csv = runs.resolve(id).resolve(MetricsCsv.FILE);
      Path until = nodes.dir.resolve("watch-until");
      Process load = loadGenerator(nodes.dir, http1, http2, job.getInteger("num"), viewers, until);
      ClusterNodes.awaitLine(
          nodes.dir.resolve("load.log"), "failover-watch: " + viewers + " viewers", 300);
      Thread.sleep(10_000); // every viewer has its history

      List<String> rows = new ArrayList<>();
      for (int k = 1; k <= kills; k++) {
        Thread.sleep(15_000 + random.nextInt(30_000)); // a random moment
        JsonObject before = ClusterNodes.job(http1);
        String ownerAddress = before.getString("node");
        int owner = ownerAddress.endsWith(":" + nodes.clusterPorts[0]) ? 0 : 1;
        String survivor = "127.0.0.1:" + nodes.clusterPorts[1 - owner];
        long inode = inode(csv);
        long t0 = System.nanoTime();
        nodes.kill(names[owner]);
        long lastCommitted =
            ClusterNodes.lastRow(csv.getParent()); // what the killed node had on the disk
        JsonObject taken =
            await(
                http1,
                j ->
                    survivor.equals(j.getString("node")) && "running".equals(j.getString("status")),
                120,
                "the job on the other node");
        double takenSeconds = (System.nanoTime() - t0) / 1e9;
        long resumedAt = taken.getLong("resumedAtStep", 0L);
        // Training resumed: the other node rewrote metrics.csv and appended a step of its own.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (inode(csv) == inode || ClusterNodes.lastRow(csv.getParent()) <= resumedAt) {
          if (System.nanoTime() > end) {
            throw new AssertionError("no new row within 120 s of kill " + k);
          }
          Thread.sleep(50);
        }
        double resumeSeconds = (System.nanoTime() - t0) / 1e9;
        rows.add(
            String.format(
                Locale.ROOT,
                "| %d | %s | %.1f | %.1f | %d | %d | %d |",
                k,
                names[owner] + " → " + names[1 - owner],
                takenSeconds,
                resumeSeconds,
                lastCommitted,
                resumedAt,
                Math.max(0, lastCommitted - resumedAt)));
        System.out.println("failover-benchmark: kill " + k + ": " + rows.getLast());
        nodes.startTrainer(names[owner], nodes.clusterPorts[owner], runs, "--no-job");
        nodes.awaitLog(names[owner], "trainer node is up", 300);
      }
      Thread.sleep(10_000);
      Files.writeString(until, "stop");
      if (!load.waitFor(120, TimeUnit.SECONDS)) {
        load.destroyForcibly();
      }
      String watch =
          Files.readAllLines(nodes.dir.resolve("load.log")).stream()
              .filter(l -> l.startsWith("failover-watch: viewers="))
              .findFirst()
              .orElse("(no summary from the load generator; see " + nodes.dir + "/load.log)");
      List<MetricsCsv.Row> all = MetricsCsv.read(csv).rows();
      int wrong = 0;
      for (int i = 0; i < all.size(); i++) {
        if (all.get(i).step() != i + 1) {
          wrong++;
        }
      }
      System.out.printf(
          Locale.ROOT,
          "failover-benchmark: %d viewers on two gateways, checkpointEverySeconds %d, seed %d%n",
          viewers,
          checkpointEvery,
          seed);
      System.out.println(
          "| kill | from → to | s to running on the other | s to its first new row | last row committed"
              + " | resumed at step | steps lost |");
      System.out.println("|---|---|---|---|---|---|---|");
      rows.forEach(System.out::println);
      System.out.printf(
          Locale.ROOT,
          "failover-benchmark: metrics.csv %d rows, %s%n",
          all.size(),
          wrong == 0 ? "each step once from 1" : wrong + " rows out of place");
      System.out.println("failover-benchmark: " + watch);
      System.out.println(
          "failover-benchmark: load average " + Files.readString(Path.of("/proc/loadavg")).strip());
    }
    return 0;
  }

  /** A gateway's environment when every viewer comes from 127.0.0.1. */
  static final Map<String, String> MANY_PER_IP =
      Map.of("LATENTSTREAM_MAX_CONNECTIONS_PER_IP", "5000");

  private static Process loadGenerator(
      Path dir, int http1, int http2, int job, int viewers, Path until) throws Exception {
    return loadGenerator(
        dir,
        "--url",
        "http://127.0.0.1:" + http1,
        "--also-url",
        "http://127.0.0.1:" + http2,
        "--job",
        Integer.toString(job),
        "--failover",
        Integer.toString(viewers),
        "--until-file",
        until.toString());
  }

  /** The load generator in a JVM of its own, logging to {@code dir/load.log}. */
  static Process loadGenerator(Path dir, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g",
                "-XX:+ExitOnOutOfMemoryError",
                "-cp",
                java.util.Arrays.stream(
                        System.getProperty("java.class.path").split(File.pathSeparator))
                    .map(e -> Path.of(e).toAbsolutePath().toString())
                    .collect(java.util.stream.Collectors.joining(File.pathSeparator)),
                "dev.latentstream.load.LoadGenerator"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("load.log").toFile())
        .start();
  }

  static JsonObject await(
      int http, java.util.function.Predicate<JsonObject> ok, int seconds, String what)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      JsonObject j = ClusterNodes.job(http);
      if (ok.test(j)) {
        return j;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("not within " + seconds + " s: " + what + "; last: " + j);
      }
      Thread.sleep(50);
    }
  }

  static long inode(Path file) {
    try {
      return ((Number) Files.getAttribute(file, "unix:ino")).longValue();
    } catch (Exception e) {
      return -1;
    }
  }
}
