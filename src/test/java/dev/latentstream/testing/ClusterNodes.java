package dev.latentstream.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.server.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Real server JVMs on loopback, started as users start them ({@code serve --cluster --role ...})
 * with one member list, each logging to {@code dir/NAME.log}; plus a small synthetic job for them
 * to train. The directory is under {@code target/}, not a temporary one, so the nodes' logs stay
 * there for a look after a failure. Closing it kills every node still running.
 */
public final class ClusterNodes implements AutoCloseable {

  public static final String TOKEN = "cluster-test-token-0123";
  public static final HttpClient HTTP = HttpClient.newHttpClient();

  public final Path dir;
  public final int[] clusterPorts;
  public final String members;
  private final Map<String, Process> nodes = new LinkedHashMap<>();

  /**
   * A fresh directory {@code target/NAME/<millis>} and {@code size} free cluster ports, all
   * members.
   */
  public ClusterNodes(String name, int size) throws IOException {
    dir =
        Files.createDirectories(Path.of("target", name, Long.toString(System.currentTimeMillis())))
            .toAbsolutePath();
    clusterPorts = new int[size];
    List<String> list = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      clusterPorts[i] = freePort();
      list.add("127.0.0.1:" + clusterPorts[i]);
    }
    members = String.join(",", list);
  }

  /**
   * A VAE job on a 512-image synthetic IDX set (16 steps an epoch, {@code epochs} epochs) in {@code
   * dir/jobs/NAME.json}: also the nodes' {@code defaultJob} (see {@link #start}), so a gateway's
   * {@code /ready} finds its dataset on any machine.
   */
  public Path syntheticJob(String name, int epochs, JsonObject extra) throws IOException {
    Path data = dir.resolve("synthetic");
    if (!Files.isDirectory(data)) {
      SyntheticIdx.write(data, 512, 128, 11);
    }
    Path job = Files.createDirectories(dir.resolve("jobs")).resolve(name + ".json");
    Files.writeString(
        job, TestServer.tinyVae(epochs, 4, data).put("name", name).mergeIn(extra).encode());
    return job;
  }

  /**
   * Starts node {@code name} (its log is {@code dir/NAME.log}) with {@code role} on cluster port
   * {@code clusterPort}, the shared token, {@code env} and the extra arguments. A node named after
   * an existing one replaces it in {@link #process}.
   */
  public Process start(
      String name, String role, int clusterPort, Map<String, String> env, String... extra)
      throws IOException {
    return start(name, role, clusterPort, dir, env, extra);
  }

  /**
   * {@link #start(String, String, int, Map, String...)} in working directory {@code home}: a node
   * whose relative {@code runsDir} then resolves where no other node looks, as on a machine of its
   * own.
   */
  public Process start(
      String name,
      String role,
      int clusterPort,
      Path home,
      Map<String, String> env,
      String... extra)
      throws IOException {
    return start(name, List.of(), role, clusterPort, members, home, env, extra);
  }

  /**
   * As {@link #start(String, String, int, Path, Map, String...)}, run through {@code prefix} (e.g.
   * {@code ip netns exec NS}) with the member list {@code memberList}.
   */
  public Process start(
      String name,
      List<String> prefix,
      String role,
      int clusterPort,
      String memberList,
      Path home,
      Map<String, String> env,
      String... extra)
      throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(
        List.of(
            ProcessHandle.current().info().command().orElse("java"),
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "--add-modules",
            "java.se",
            "--add-exports",
            "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED",
            "--add-opens",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens",
            "java.management/sun.management=ALL-UNNAMED",
            "--add-opens",
            "jdk.management/com.sun.management.internal=ALL-UNNAMED",
            "-Xmx768m",
            "-cp",
            absoluteClassPath(),
            "dev.latentstream.cli.Main",
            "serve",
            "--cluster",
            "--role",
            role,
            "--cluster-port",
            Integer.toString(clusterPort),
            "--members",
            memberList));
    cmd.addAll(List.of(extra));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(Files.createDirectories(home).toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()));
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    pb.environment().put("LATENTSTREAM_TOKEN", TOKEN);
    if (Files.isDirectory(dir.resolve("jobs"))) {
      try (var jobs = Files.list(dir.resolve("jobs"))) {
        jobs.findFirst()
            .ifPresent(
                j -> {
                  pb.environment().put("LATENTSTREAM_JOBS_DIR", j.getParent().toString());
                  pb.environment()
                      .put(
                          "LATENTSTREAM_DEFAULT_JOB",
                          j.getFileName().toString().replace(".json", ""));
                });
      }
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    nodes.put(name, p);
    return p;
  }

  /**
   * Starts node "trainer" (on the first cluster port) and "gateway1" and "gateway2" serving HTTP on
   * {@code http1} and {@code http2} with {@code env1} and {@code env2}, and waits up to {@code
   * seconds} for each to say it is up.
   */
  public void startTrainerAndGateways(
      int http1, Map<String, String> env1, int http2, Map<String, String> env2, int seconds)
      throws Exception {
    start("trainer", "trainer", clusterPorts[0], Map.of());
    start("gateway1", "gateway", clusterPorts[1], env1, "--port", Integer.toString(http1));
    start("gateway2", "gateway", clusterPorts[2], env2, "--port", Integer.toString(http2));
    awaitLog("gateway1", "serving at", seconds);
    awaitLog("gateway2", "serving at", seconds);
    awaitLog("trainer", "trainer node is up", seconds);
  }

  /**
   * Starts trainer node {@code name} on cluster port {@code clusterPort} with runs directory {@code
   * runs} (shared by the nodes of a failover group) and the extra arguments (e.g. {@code
   * --no-job}).
   */
  public Process startTrainer(String name, int clusterPort, Path runs, String... extra)
      throws IOException {
    return start(
        name, "trainer", clusterPort, Map.of("LATENTSTREAM_RUNS_DIR", runs.toString()), extra);
  }

  /**
   * Starts gateway node {@code name} on cluster port {@code clusterPort}, serving HTTP on {@code
   * http}, with a runs directory of its own (a gateway needs no disk in common with the trainers)
   * and {@code env} besides.
   */
  public Process startGateway(String name, int clusterPort, int http, Map<String, String> env)
      throws IOException {
    Map<String, String> all = new LinkedHashMap<>(env);
    all.putIfAbsent("LATENTSTREAM_RUNS_DIR", dir.resolve("gateway-runs").toString());
    return start(name, "gateway", clusterPort, all, "--port", Integer.toString(http));
  }

  /**
   * The failover group of docs/cluster.md: trainer "a" (training the default job) and trainer "b"
   * ({@code --no-job}) on the first two cluster ports sharing {@code runs}, and a gateway on the
   * third serving HTTP on {@code http}; waits up to {@code seconds} for each to say it is up.
   */
  public void startFailoverGroup(Path runs, int http, int seconds) throws Exception {
    startTrainer("a", clusterPorts[0], runs);
    startTrainer("b", clusterPorts[1], runs, "--no-job");
    startGateway("gateway", clusterPorts[2], http, Map.of());
    awaitLog("a", "trainer node is up", seconds);
    awaitLog("b", "trainer node is up", seconds);
    awaitLog("gateway", "serving at", seconds);
  }

  /** {@code 127.0.0.1:PORT}: how jobs name the trainer node on cluster port {@code port}. */
  public static String address(int port) {
    return "127.0.0.1:" + port;
  }

  /** This JVM's class path with every entry absolute: the nodes run in {@link #dir}. */
  private static String absoluteClassPath() {
    return java.util.Arrays.stream(
            System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .map(e -> Path.of(e).toAbsolutePath().toString())
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
  }

  public Process process(String name) {
    return nodes.get(name);
  }

  public Path log(String name) {
    return dir.resolve(name + ".log");
  }

  /** {@code kill -9}: the node gets no chance to say goodbye to the cluster or its sockets. */
  public void kill(String name) throws InterruptedException {
    Process p = nodes.get(name);
    p.destroyForcibly();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      throw new AssertionError(name + " still running 20 s after SIGKILL");
    }
  }

  /**
   * Waits until {@code name}'s log holds {@code text}; fails with the log if it does not in time.
   */
  public void awaitLog(String name, String text, int seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Path log = log(name);
    while (System.nanoTime() < end) {
      if (Files.exists(log) && Files.readString(log).contains(text)) {
        return;
      }
      if (!nodes.get(name).isAlive()) {
        break;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        name
            + " never said '"
            + text
            + "'"
            + (nodes.get(name).isAlive() ? "" : " (it exited)")
            + ":\n"
            + (Files.exists(log) ? Files.readString(log) : "(no log)"));
  }

  @Override
  public void close() {
    nodes.values().forEach(Process::destroyForcibly);
  }

  // --- helpers ----------------------------------------------------------------------------------

  public static JsonArray jobs(int port) throws Exception {
    return new JsonArray(
        HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body());
  }

  public static void awaitLine(Path log, String text, int seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      if (Files.exists(log) && Files.readString(log).contains(text)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        log.getFileName()
            + " never said '"
            + text
            + "':\n"
            + (Files.exists(log) ? Files.readString(log) : "(no log)"));
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The first job {@code GET /api/jobs} on {@code http} lists, empty when none or on an error. */
  public static JsonObject job(int http) {
    try {
      JsonArray all = jobs(http);
      return all.isEmpty() ? new JsonObject() : all.getJsonObject(0);
    } catch (Exception e) {
      return new JsonObject(); // the gateway is busy: the caller asks again
    }
  }

  /** Job {@code id} as {@code GET /api/jobs} on {@code http} lists it, empty when it does not. */
  public static JsonObject job(int http, String id) {
    try {
      for (Object o : jobs(http)) {
        JsonObject j = (JsonObject) o;
        if (id.equals(j.getString("id"))) {
          return j;
        }
      }
    } catch (Exception e) {
      // the gateway is busy: the caller asks again
    }
    return new JsonObject();
  }

  /** Polls {@code condition} every 200 ms; fails naming {@code what} after {@code seconds}. */
  public static void await(BooleanSupplier condition, int seconds, String what)
      throws InterruptedException {
    await(condition, seconds, what, () -> null);
  }

  /**
   * Polls {@code condition} every 200 ms; fails after {@code seconds} naming {@code what} and, when
   * not null, what {@code last} shows then (the job as a gateway lists it, say).
   */
  public static void await(
      BooleanSupplier condition, int seconds, String what, java.util.function.Supplier<?> last)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        Object seen = last.get();
        throw new AssertionError(
            "not within " + seconds + " s: " + what + (seen == null ? "" : "; last: " + seen));
      }
      Thread.sleep(200);
    }
  }

  /** The step of the last whole row of {@code run}'s metrics.csv, 0 when it has none. */
  public static long lastRow(Path run) {
    try {
      List<MetricsCsv.Row> rows = MetricsCsv.read(run.resolve(MetricsCsv.FILE)).rows();
      return rows.isEmpty() ? 0 : rows.getLast().step();
    } catch (Exception e) {
      return 0;
    }
  }

  /** {@code run}'s metrics.csv holds steps from 1, each once, with no gap. */
  public static void assertEachStepOnce(Path run) throws IOException {
    List<MetricsCsv.Row> rows = MetricsCsv.read(run.resolve(MetricsCsv.FILE)).rows();
    assertFalse(rows.isEmpty(), run.getFileName() + " has rows");
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(
          i + 1, rows.get(i).step(), run.getFileName() + ": steps from 1, each once, with no gap");
    }
  }

  /** {@code kill -NAME pid} (STOP, CONT, ...). */
  public static void signal(String name, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
    assertEquals(0, p.waitFor(), "kill -" + name + " " + pid);
  }

  /**
   * Freezes {@code pid} (SIGSTOP) at a moment it holds no lock on any of {@code files} (a run's
   * lease.json, which a node locks for the milliseconds of each fenced write): a node frozen inside
   * that lock holds up a takeover until it wakes, as docs/cluster.md says; this freezes it outside.
   * Reads the locks from /proc/locks; tries again a moment later, at most 50 times.
   */
  public static void freezeOutsideLocks(long pid, List<Path> files) throws Exception {
    java.util.Set<String> inodes = new java.util.HashSet<>();
    for (Path f : files) {
      if (Files.exists(f)) {
        inodes.add(String.valueOf(Files.getAttribute(f, "unix:ino")));
      }
    }
    for (int attempt = 0; attempt < 50; attempt++) {
      signal("STOP", pid);
      boolean holds = false;
      for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
        String[] f = line.trim().split("\\s+");
        // "1: POSIX  ADVISORY  WRITE 9648 00:2a:1234 0 EOF" (a blocked waiter's line has "->")
        if (f.length >= 6 && !f[1].equals("->") && f[4].equals(Long.toString(pid))) {
          String[] dev = f[5].split(":");
          holds |= inodes.contains(dev[dev.length - 1]);
        }
      }
      if (!holds) {
        return;
      }
      signal("CONT", pid);
      Thread.sleep(37);
    }
    throw new AssertionError("node " + pid + " held a lease.json lock at each of 50 tries");
  }
}
