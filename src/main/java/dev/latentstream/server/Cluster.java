package dev.latentstream.server;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.SplitBrainProtectionConfig;
import dev.latentstream.bus.Addresses;
import dev.latentstream.ops.Ops;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * How a node joins the clustered event bus: Hazelcast with a fixed TCP-IP member list, no multicast
 * and no auto-detection, bound to {@code host} only. {@code members} are {@code host:port} (or bare
 * hosts).
 */
public record Cluster(String host, int port, List<String> members) {

  // Hazelcast logs a page of INFO per node start; keep its warnings, and our own one-line join
  // message.
  // Held here so the logger (and its level) is not garbage-collected.
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");
  private static final Logger HAZELCAST_CP_LOG = Logger.getLogger("com.hazelcast.cp");

  static {
    HAZELCAST_LOG.setLevel(Level.WARNING);
    // "CP Subsystem is not enabled": latentstream uses no CP data structures.
    HAZELCAST_CP_LOG.setLevel(Level.SEVERE);
  }

  static final String LEASE_QUORUM = "latentstream-lease-majority";

  public Cluster {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--cluster-port must be from 1 to 65535, got " + port);
    }
    members = List.copyOf(members);
    for (String m : members) {
      if (!m.matches("[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?")) {
        throw new IllegalArgumentException("--members: '" + m + "' is not host:port");
      }
    }
  }

  /**
   * Starts a clustered Vert.x for this node, with the same metrics as a single process; joining
   * takes about a second on loopback.
   */
  public Future<Vertx> start() {
    VertxOptions options =
        new VertxOptions()
            .setEventBusOptions(
                new EventBusOptions().setHost(host).setPort(0).setClusterPublicHost(host));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast());
    return Ops.withMetrics(Vertx.builder(), options, registry)
        .withClusterManager(manager)
        .buildClustered()
        .onSuccess(
            vertx -> {
              Ops.attach(vertx, registry);
              // Trainer nodes of a failover group look for a departed member's jobs at once.
              manager
                  .getHazelcastInstance()
                  .getCluster()
                  .addMembershipListener(
                      new MembershipListener() {
                        @Override
                        public void memberAdded(MembershipEvent e) {}

                        @Override
                        public void memberRemoved(MembershipEvent e) {
                          vertx
                              .eventBus()
                              .publish(
                                  Addresses.CLUSTER_MEMBER_LEFT,
                                  e.getMember().getAddress().toString(),
                                  new DeliveryOptions().setLocalOnly(true));
                        }
                      });
            });
  }

  /**
   * The fewest members that may change the failover group's leases: a majority of the member list
   * when it has three or more, so the minority side of a split cluster can neither take nor renew a
   * lease. With two members a majority is both: then there is no protection (a crash must not stop
   * the survivor), and the run directory's owner record fences a split brain (see docs/cluster.md).
   */
  int leaseQuorum() {
    return members.size() >= 3 ? members.size() / 2 + 1 : 0;
  }

  Config hazelcast() {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName("latentstream");
    hz.setProperty("hazelcast.socket.bind.any", "false");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "jdk");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    // A member that dies is noticed in seconds, not the default minute.
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
    // A healed network partition merges the two sides within seconds, not the default 5 minutes
    // (until then gateways on the other side show its jobs unreachable).
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(false);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
    net.getJoin().getMulticastConfig().setEnabled(false);
    net.getJoin().getAutoDetectionConfig().setEnabled(false);
    List<String> tcp = new ArrayList<>(members.isEmpty() ? List.of(host) : members);
    net.getJoin().getTcpIpConfig().setEnabled(true).setMembers(tcp).setConnectionTimeoutSeconds(1);
    if (leaseQuorum() > 0) {
      hz.addSplitBrainProtectionConfig(
          new SplitBrainProtectionConfig(LEASE_QUORUM, true, leaseQuorum()));
      for (String map : List.of("latentstream.job-leases", "latentstream.trainer-nodes")) {
        hz.addMapConfig(new MapConfig(map).setSplitBrainProtectionName(LEASE_QUORUM));
      }
    }
    return hz;
  }
}
