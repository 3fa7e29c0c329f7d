package dev.latentstream.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed latency on one link, in a network namespace that a test made itself (root only). Where
 * the kernel has netem, {@code tc qdisc ... netem delay} on the link's way out. Where it has not
 * ({@code CONFIG_NET_SCH_NETEM} not set), the delay is made here, on the link's way in: a {@link
 * Tun} device is moved into the namespace, a tc ingress filter ({@code u32} matching every IPv4
 * packet, action {@code mirred egress redirect}) sends each packet that arrives on the link into
 * it, and two threads read each one, hold it for the delay and write it back into the device, where
 * the kernel receives it as if it had come in there (reverse-path filtering off for the namespace).
 * Packets keep their order; ARP and the link's outgoing packets are not held. Either way a round
 * trip across the link takes the delay longer, which {@link #connectMillis} measures.
 *
 * <p>Owner: this object owns the TUN device and its two threads. {@link #close} removes the filter,
 * lets the packets still held go on their way, then stops the threads and closes the device (the
 * kernel deletes it).
 */
public final class LinkDelay implements AutoCloseable {

  private final String ns;
  private final String link;
  private final Tun tun;
  private final long delayNanos;
  private final BlockingQueue<Held> held = new LinkedBlockingQueue<>();
  private final AtomicLong packets = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopping;
  private volatile RuntimeException failure;

  private record Held(long dueNanos, byte[] packet) {}

  private LinkDelay(String ns, String link, Tun tun, Duration delay) {
    this.ns = ns;
    this.link = link;
    this.tun = tun;
    this.delayNanos = delay.toNanos();
  }

  /**
   * Delays the packets on {@code link} of namespace {@code ns} by {@code delay}: with netem if the
   * kernel has it, else through a TUN device named {@code link + "d"}.
   */
  public static LinkDelay add(String ns, String link, Duration delay) {
    String ms = delay.toMillis() + "ms";
    if (run("tc", "-n", ns, "qdisc", "add", "dev", link, "root", "netem", "delay", ms) == 0) {
      return new LinkDelay(ns, link, null, delay);
    }
    Tun tun = Tun.open(link + "d"); // in this namespace; moved next
    LinkDelay d = new LinkDelay(ns, link, tun, delay);
    try {
      ok("ip", "link", "set", tun.name, "netns", ns);
      ok("ip", "-n", ns, "link", "set", tun.name, "up");
      ok(
          "ip",
          "netns",
          "exec",
          ns,
          "sysctl",
          "-q",
          "-w",
          "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf." + tun.name + ".rp_filter=0");
      d.threads.add(Thread.ofPlatform().daemon().name("delay-in-" + link).start(d::hold));
      d.threads.add(Thread.ofPlatform().daemon().name("delay-out-" + link).start(d::release));
      ok("tc", "-n", ns, "qdisc", "add", "dev", link, "handle", "ffff:", "ingress");
      ok(
          "tc",
          "-n",
          ns,
          "filter",
          "add",
          "dev",
          link,
          "parent",
          "ffff:",
          "protocol",
          "ip",
          "u32",
          "match",
          "u32",
          "0",
          "0",
          "action",
          "mirred",
          "egress",
          "redirect",
          "dev",
          tun.name);
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
    return d;
  }

  /** {@code "netem"}, or {@code "a TUN device"} where the kernel has no netem. */
  public String mechanism() {
    return tun == null ? "netem" : "a TUN device (" + tun.name + ", no netem in this kernel)";
  }

  /** How many packets the TUN device has held so far (0 with netem, which counts none here). */
  public long packets() {
    return packets.get();
  }

  private void hold() {
    try {
      while (!stopping) {
        byte[] packet = tun.receive(100);
        if (packet != null) {
          held.add(new Held(System.nanoTime() + delayNanos, packet));
          packets.incrementAndGet();
        }
      }
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  private void release() {
    try {
      while (!stopping || !held.isEmpty()) {
        Held h = held.poll(100, TimeUnit.MILLISECONDS);
        if (h == null) {
          continue;
        }
        for (long wait = h.dueNanos - System.nanoTime(); wait > 0; ) {
          LockSupport.parkNanos(wait);
          wait = h.dueNanos - System.nanoTime();
        }
        tun.send(h.packet);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure = e;
    }
  }

  @Override
  public void close() {
    if (tun == null) {
      ok("tc", "-n", ns, "qdisc", "del", "dev", link, "root");
      return;
    }
    run("tc", "-n", ns, "qdisc", "del", "dev", link, "ingress");
    stopping = true;
    for (Thread t : threads) {
      try {
        t.join(TimeUnit.NANOSECONDS.toMillis(delayNanos) + 5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    tun.close();
    if (failure != null) {
      throw new IllegalStateException("the delay on " + link + " in " + ns + " failed", failure);
    }
  }

  /**
   * The quickest of three TCP connects from namespace {@code fromNs} to port 9 of {@code ip}, in
   * milliseconds. Nothing listens there: the connect ends with the peer's reset, one round trip
   * across the link, and touches no server.
   */
  public static long connectMillis(String fromNs, String ip) {
    String script =
        "for i in 1 2 3; do s=$EPOCHREALTIME; (exec 3<>/dev/tcp/"
            + ip
            + "/9) 2>/dev/null; e=$EPOCHREALTIME; echo $(( (${e/./} - ${s/./}) / 1000 )); done";
    String out = output("ip", "netns", "exec", fromNs, "bash", "-c", script);
    return out.lines().mapToLong(Long::parseLong).min().orElseThrow();
  }

  private static void ok(String... cmd) {
    int rc = run(cmd);
    if (rc != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc);
    }
  }

  private static int run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      int rc = p.waitFor();
      if (rc != 0) {
        System.out.println("link delay: " + String.join(" ", cmd) + ": " + out.strip());
      }
      return rc;
    } catch (Exception e) {
      return -1;
    }
  }

  private static String output(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + out);
      }
      return out;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(String.join(" ", cmd) + " interrupted", e);
    }
  }
}
