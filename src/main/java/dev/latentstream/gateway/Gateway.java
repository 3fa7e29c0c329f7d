package dev.latentstream.gateway;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the {@link HttpVerticle} instances of one process share: the per-address WebSocket count (the limit
 * holds across event loops) and the port they listen on. Thread-safe: every instance's event loop calls it.
 */
public final class Gateway {

  private final ConcurrentHashMap<String, Integer> connectionsPerIp = new ConcurrentHashMap<>();
  private final CountDownLatch listening = new CountDownLatch(1);
  private volatile int port = -1;

  int connections(String ip) {
    return connectionsPerIp.getOrDefault(ip, 0);
  }

  void connected(String ip) {
    connectionsPerIp.merge(ip, 1, Integer::sum);
  }

  void disconnected(String ip) {
    connectionsPerIp.compute(ip, (k, n) -> n == null || n <= 1 ? null : n - 1);
  }

  void listening(int actualPort) {
    port = actualPort;
    listening.countDown();
  }

  /** The port every instance listens on; valid once the gateway has been deployed. */
  public int port() {
    try {
      listening.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return port;
  }
}
