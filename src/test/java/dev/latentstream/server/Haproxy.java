package dev.latentstream.server;

import dev.latentstream.testing.ClusterNodes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's HAProxy running the shipped {@code config/haproxy.cfg} unchanged, its addresses given
 * through the environment variables that file reads. Its status page (CSV) says which gateway is up
 * and how many sessions each has had.
 */
final class Haproxy implements AutoCloseable {

  static final Path CONFIG = Path.of("config/haproxy.cfg");

  final int port;
  final int statsPort;
  private final Process process;

  Haproxy(Path logDir, int port, int statsPort, int gateway1, int gateway2) throws Exception {
    this.port = port;
    this.statsPort = statsPort;
    Path binary = Path.of("/usr/sbin/haproxy");
    if (!Files.isExecutable(binary)) {
      throw new AssertionError(
          "HAProxy is not installed (/usr/sbin/haproxy): run .ci/setup, which installs haproxy");
    }
    ProcessBuilder pb =
        new ProcessBuilder(binary.toString(), "-db", "-f", CONFIG.toAbsolutePath().toString())
            .redirectErrorStream(true)
            .redirectOutput(logDir.resolve("haproxy.log").toFile());
    pb.environment().put("LATENTSTREAM_LB_BIND", "127.0.0.1:" + port);
    pb.environment().put("LATENTSTREAM_LB_STATS", "127.0.0.1:" + statsPort);
    pb.environment().put("LATENTSTREAM_GATEWAY1", "127.0.0.1:" + gateway1);
    pb.environment().put("LATENTSTREAM_GATEWAY2", "127.0.0.1:" + gateway2);
    process = pb.start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        stats();
        return;
      } catch (IOException notYet) {
        if (!process.isAlive() || System.nanoTime() > end) {
          throw new AssertionError(
              "HAProxy did not start:\n" + Files.readString(logDir.resolve("haproxy.log")));
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * The backend's servers by name, each its status page row (status, check_status, check_code,
   * scur, stot...).
   */
  Map<String, Map<String, String>> stats() throws IOException, InterruptedException {
    HttpResponse<String> r =
        ClusterNodes.HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/;csv")).build(),
            HttpResponse.BodyHandlers.ofString());
    List<String> lines = r.body().lines().toList();
    String[] header = lines.getFirst().replaceFirst("^# ", "").split(",", -1);
    Map<String, Map<String, String>> servers = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", -1);
      if (f.length < 2 || !"gateways".equals(f[0]) || "BACKEND".equals(f[1])) {
        continue;
      }
      Map<String, String> row = new HashMap<>();
      for (int i = 0; i < header.length && i < f.length; i++) {
        row.put(header[i], f[i]);
      }
      servers.put(f[1], row);
    }
    return servers;
  }

  /** Waits until HAProxy's health check puts {@code server} in {@code status} (UP or DOWN). */
  Map<String, String> awaitStatus(String server, String status, int seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Map<String, String> row = Map.of();
    while (System.nanoTime() < end) {
      row = stats().getOrDefault(server, Map.of());
      if (status.equals(row.get("status"))) {
        return row;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(server + " not " + status + " after " + seconds + " s: " + row);
  }

  long sessions(String server) throws Exception {
    return Long.parseLong(stats().get(server).get("stot"));
  }

  @Override
  public void close() {
    process.destroy();
  }
}
