package dev.latentstream.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two network namespaces that this test makes, joined by one veth pair ({@value #NEAR_IP} and
 * {@value #FAR_IP}); {@link LinkDelay} on the far end. Needs root and iproute2 (CI runs as root).
 */
class LinkDelayTest {

  static final String NEAR_IP = "10.213.7.1";
  static final String FAR_IP = "10.213.7.2";
  static final String SUFFIX = Long.toString(ProcessHandle.current().pid() % 100_000);
  static final String NEAR_NS = "ls-delay-near-" + SUFFIX;
  static final String FAR_NS = "ls-delay-far-" + SUFFIX;
  static final String FAR_LINK = "lsf" + SUFFIX;

  boolean made;

  @BeforeEach
  void link() {
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "network namespaces need root (CI runs as root)");
    assumeTrue(LinkDelayTest.run("ip", "-V") == 0, "needs iproute2's ip");
    made = true;
    ok("ip", "netns", "add", NEAR_NS);
    ok("ip", "netns", "add", FAR_NS);
    ok(
        "ip",
        "link",
        "add",
        FAR_LINK,
        "netns",
        FAR_NS,
        "type",
        "veth",
        "peer",
        "name",
        "lsn" + SUFFIX,
        "netns",
        NEAR_NS);
    ok("ip", "-n", FAR_NS, "addr", "add", FAR_IP + "/24", "dev", FAR_LINK);
    ok("ip", "-n", NEAR_NS, "addr", "add", NEAR_IP + "/24", "dev", "lsn" + SUFFIX);
    ok("ip", "-n", FAR_NS, "link", "set", FAR_LINK, "up");
    ok("ip", "-n", NEAR_NS, "link", "set", "lsn" + SUFFIX, "up");
  }

  @AfterEach
  void unlink() {
    if (made) {
      run("ip", "netns", "del", NEAR_NS); // the veth pair goes with it
      run("ip", "netns", "del", FAR_NS);
    }
  }

  @Test
  void addsTheDelayToEachRoundTripUntilClosed() {
    long plain = LinkDelay.connectMillis(NEAR_NS, FAR_IP);
    long slow;
    long packets;
    String how;
    try (LinkDelay d = LinkDelay.add(FAR_NS, FAR_LINK, Duration.ofMillis(200))) {
      slow = LinkDelay.connectMillis(NEAR_NS, FAR_IP);
      packets = d.packets();
      how = d.mechanism();
    }
    long after = LinkDelay.connectMillis(NEAR_NS, FAR_IP);
    System.out.printf(
        "link delay by %s: TCP connect %d ms before, %d ms with 200 ms (%d packets held), %d ms"
            + " after%n",
        how, plain, slow, packets, after);
    assertTrue(plain < 200, "a round trip without the delay took " + plain + " ms");
    assertTrue(slow >= 200, "a round trip with the delay took " + slow + " ms: " + how);
    assertTrue(after < 200, "a round trip after the delay was removed took " + after + " ms");
    assertTrue(how.equals("netem") || packets >= 3, packets + " packets held by " + how);
  }

  static void ok(String... cmd) {
    int rc = run(cmd);
    assertTrue(rc == 0, String.join(" ", cmd) + " exited " + rc);
  }

  static int run(String... cmd) {
    try {
      Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      int rc = p.waitFor();
      if (rc != 0) {
        System.out.println("link delay test: " + String.join(" ", cmd) + ": " + out.strip());
      }
      return rc;
    } catch (Exception e) {
      return -1;
    }
  }
}
