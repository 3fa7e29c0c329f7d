package dev.latentstream.server;

import dev.latentstream.testing.SyntheticIdx;
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

/**
 * Real server JVMs on loopback, started as users start them ({@code serve --cluster --role ...})
 * with one member list, each logging to {@code dir/NAME.log}; plus a small synthetic job for them
 * to train. The directory is under {@code target/}, not a temporary one, so the nodes' logs stay
 * there for a look after a failure. Closing it kills every node still running.
 */
final class ClusterNodes implements AutoCloseable {

  static final String TOKEN = "cluster-test-token-0123";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  final Path dir;
  final int[] clusterPorts;
  final String members;
  private final Map<String, Process> nodes = new LinkedHashMap<>();

  /**
   * A fresh directory {@code target/NAME/<millis>} and {@code size} free cluster ports, all
   * members.
   */
  ClusterNodes(String name, int size) throws IOException {
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
  Path syntheticJob(String name, int epochs, JsonObject extra) throws IOException {
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
  Process start(String name, String role, int clusterPort, Map<String, String> env, String... extra)
      throws IOException {
    return start(name, role, clusterPort, dir, env, extra);
  }

  /**
   * {@link #start(String, String, int, Map, String...)} in working directory {@code home}: a node
   * whose relative {@code runsDir} then resolves where no other node looks, as on a machine of its
   * own.
   */
  Process start(
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
  Process start(
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
  void startTrainerAndGateways(
      int http1, Map<String, String> env1, int http2, Map<String, String> env2, int seconds)
      throws Exception {
    start("trainer", "trainer", clusterPorts[0], Map.of());
    start("gateway1", "gateway", clusterPorts[1], env1, "--port", Integer.toString(http1));
    start("gateway2", "gateway", clusterPorts[2], env2, "--port", Integer.toString(http2));
    awaitLog("gateway1", "serving at", seconds);
    awaitLog("gateway2", "serving at", seconds);
    awaitLog("trainer", "trainer node is up", seconds);
  }

  /** This JVM's class path with every entry absolute: the nodes run in {@link #dir}. */
  private static String absoluteClassPath() {
    return java.util.Arrays.stream(
            System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        .map(e -> Path.of(e).toAbsolutePath().toString())
        .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
  }

  Process process(String name) {
    return nodes.get(name);
  }

  Path log(String name) {
    return dir.resolve(name + ".log");
  }

  /** {@code kill -9}: the node gets no chance to say goodbye to the cluster or its sockets. */
  void kill(String name) throws InterruptedException {
    Process p = nodes.get(name);
    p.destroyForcibly();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      throw new AssertionError(name + " still running 20 s after SIGKILL");
    }
  }

  /**
   * Waits until {@code name}'s log holds {@code text}; fails with the log if it does not in time.
   */
  void awaitLog(String name, String text, int seconds) throws Exception {
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

  static JsonArray jobs(int port) throws Exception {
    return new JsonArray(
        HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body());
  }

  static void awaitLine(Path log, String text, int seconds) throws Exception {
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

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
