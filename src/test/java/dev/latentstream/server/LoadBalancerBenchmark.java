package dev.latentstream.server;

import dev.latentstream.testing.ClusterNodes;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The HAProxy deployment under a gateway's death: a trainer JVM and two gateway JVMs behind
 * Debian's HAProxy running {@code config/haproxy.cfg}, {@code --viewers} viewers (default 500, from
 * loopback addresses of their own, reconnecting as the page does: full jitter from 0-3 s, doubling)
 * in this process, then {@code kill -9} of the gateway that holds the most. Prints how many lost
 * their socket, the time from the lost socket to the new history (p50, p99, max), how many were not
 * back within 60 s, and the gaps or repeated steps any viewer saw. Needs haproxy (.ci/setup) and
 * the test classpath:
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:$(cat target/cp.txt)" dev.latentstream.server.LoadBalancerBenchmark --viewers 500
 * </pre>
 */
public final class LoadBalancerBenchmark {

  private LoadBalancerBenchmark() {}

  public static void main(String[] args) throws Exception {
    int viewers = 500;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (args[i].equals("--viewers")) {
        viewers = Integer.parseInt(args[i + 1]);
      } else {
        throw new IllegalArgumentException("unknown option " + args[i] + " (known: --viewers N)");
      }
    }
    try (ClusterNodes nodes = new ClusterNodes("lb-benchmark", 3)) {
      nodes.syntheticJob("lb-bench", 100_000, new JsonObject());
      int http1 = ClusterNodes.freePort();
      int http2 = ClusterNodes.freePort();
      Map<String, String> behindProxy = Map.of("LATENTSTREAM_TRUSTED_PROXIES", "127.0.0.1");
      nodes.startTrainerAndGateways(http1, behindProxy, http2, behindProxy, 300);
      try (Haproxy lb =
          new Haproxy(nodes.dir, ClusterNodes.freePort(), ClusterNodes.freePort(), http1, http2)) {
        lb.awaitStatus("gateway1", "UP", 60);
        lb.awaitStatus("gateway2", "UP", 60);
        while (ClusterNodes.jobs(http1).isEmpty()) {
          Thread.sleep(200);
        }
        int job = ClusterNodes.jobs(http1).getJsonObject(0).getInteger("num");
        URI uri = URI.create("ws://127.0.0.1:" + lb.port + "/ws");
        List<Viewer> all = new ArrayList<>();
        for (int i = 0; i < viewers; i++) {
          all.add(
              new Viewer(
                  "viewer-" + i,
                  uri,
                  InetAddress.getByName("127.0." + (1 + i / 200) + "." + (1 + i % 200)),
                  job,
                  i));
          Thread.sleep(5); // 200 a second, as pages that open over a few seconds
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (all.stream().anyMatch(v -> v.loss.histories() == 0) && System.nanoTime() < end) {
          Thread.sleep(200);
        }
        long ready = all.stream().filter(v -> v.loss.histories() > 0).count();
        Thread.sleep(5000);
        String victim =
            Long.parseLong(lb.stats().get("gateway1").get("scur"))
                    >= Long.parseLong(lb.stats().get("gateway2").get("scur"))
                ? "gateway1"
                : "gateway2";
        long onVictim = Long.parseLong(lb.stats().get(victim).get("scur"));
        nodes.kill(victim);
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Thread.sleep(1000);
        while (all.stream().anyMatch(Viewer::away) && System.nanoTime() < end) {
          Thread.sleep(200);
        }
        Thread.sleep(3000); // live points after the new histories
        List<Long> times = new ArrayList<>();
        all.forEach(v -> times.addAll(v.reconnectMillis));
        times.sort(null);
        long notBack = all.stream().filter(Viewer::away).count();
        List<String> problems = new ArrayList<>();
        all.forEach(v -> problems.addAll(v.loss.problems()));
        all.forEach(Viewer::close);
        System.out.printf(
            Locale.ROOT,
            "viewers %d (with a history before the kill: %d), on the killed %s: %d%n",
            viewers,
            ready,
            victim,
            onVictim);
        System.out.printf(
            Locale.ROOT, "reconnected %d, not back within 60 s %d%n", times.size(), notBack);
        if (!times.isEmpty()) {
          System.out.printf(
              Locale.ROOT,
              "lost socket to new history: p50 %.2f s, p99 %.2f s, max %.2f s%n",
              pct(times, 0.5) / 1e3,
              pct(times, 0.99) / 1e3,
              times.getLast() / 1e3);
        }
        System.out.printf(
            Locale.ROOT,
            "gaps or repeated steps: %d%s%n",
            problems.size(),
            problems.isEmpty() ? "" : " " + problems.subList(0, Math.min(5, problems.size())));
      }
    }
    System.exit(0);
  }

  static double pct(List<Long> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }
}
