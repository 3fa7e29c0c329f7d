package dev.latentstream.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The per-address WebSocket count: a reservation is one atomic step, so handshakes racing on
 * several event loops cannot all pass the limit.
 */
class ConnectionCountTest {

  @Test
  void racingReservationsTakeExactlyTheLimit() throws Exception {
    Gateway gateway = new Gateway();
    int threads = 16;
    AtomicInteger taken = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int i = 0; i < threads * 50; i++) {
        pool.submit(
            () -> {
              start.await();
              if (gateway.reserve("10.0.0.7", 3)) {
                taken.incrementAndGet();
              }
              return null;
            });
      }
      start.countDown();
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES));
    }
    assertEquals(3, taken.get());
    assertEquals(3, gateway.connections("10.0.0.7"));
  }

  @Test
  void aReleasedSocketMakesRoomAndAddressesCountApart() {
    Gateway gateway = new Gateway();
    assertTrue(gateway.reserve("a", 1));
    assertFalse(gateway.reserve("a", 1));
    assertTrue(gateway.reserve("b", 1), "another address has its own count");
    gateway.disconnected("a");
    assertEquals(0, gateway.connections("a"));
    assertTrue(gateway.reserve("a", 1));
  }
}
