package dev.latentstream.jobs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Counter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cluster's store of a failover group's leases (Hazelcast maps, through Vert.x shared data),
 * and nothing else: what this node knows and trusts of them is {@link Leases}'s.
 *
 * <ul>
 *   <li>{@value #LEASES}: {@code group/jobId} → the owner ({@code node}, its {@code name} and a
 *       fencing {@code token} from the cluster-wide counter {@value #TOKENS}). Taken with {@code
 *       putIfAbsent}, moved to another node only with a compare-and-set ({@code replaceIfPresent})
 *       from the value the taker saw, and removed (only if still the remover's) when the job ends.
 *   <li>{@value #NODES}: {@code node} → its group and name, put with a time to live of {@link
 *       Leases#NODE_TTL_MS} at every heartbeat. A lease whose node is missing there has expired.
 * </ul>
 *
 * <p>Threads: the trainer verticle's context; every call answers with a future on it.
 */
final class LeaseMaps {

  static final String LEASES = "latentstream.job-leases";
  static final String NODES = "latentstream.trainer-nodes";
  static final String TOKENS = "latentstream.lease-tokens";

  /** A lease another node held when it went away, as the taker saw it. */
  record Orphan(String jobId, String value, Lease lease) {}

  private final Vertx vertx;
  private final String node;
  private final String name;
  private final String group;
  private AsyncMap<String, String> leases;
  private AsyncMap<String, String> nodes;
  private Counter tokens;

  LeaseMaps(Vertx vertx, String node, String name, String group) {
    this.vertx = vertx;
    this.node = node;
    this.name = name;
    this.group = group;
  }

  /** Finds the maps and the counter; until it has, every read answers empty. */
  Future<Void> open() {
    var data = vertx.sharedData();
    return data.<String, String>getAsyncMap(LEASES)
        .compose(
            m -> {
              leases = m;
              return data.<String, String>getAsyncMap(NODES);
            })
        .compose(
            m -> {
              nodes = m;
              return data.getCounter(TOKENS);
            })
        .map(
            c -> {
              tokens = c;
              return null;
            });
  }

  /** The maps were found (they may still fail to answer). */
  boolean reached() {
    return nodes != null;
  }

  private String key(String jobId) {
    return group + "/" + jobId;
  }

  /** A fresh fencing token from the cluster-wide counter. */
  Future<Long> nextToken() {
    return tokens == null
        ? Future.failedFuture(new IllegalStateException("the cluster's leases are not reached yet"))
        : tokens.incrementAndGet();
  }

  /** Puts this node's entry in {@value #NODES} again, for another {@code ttlMs}. */
  Future<Void> putNode(long ttlMs) {
    return nodes.put(node, new JsonObject().put("group", group).put("name", name).encode(), ttlMs);
  }

  /** This node's entry goes: the others may take its jobs over at once. */
  Future<Void> removeNode() {
    return nodes == null ? Future.succeededFuture() : nodes.remove(node).mapEmpty();
  }

  /** Whether {@code nodeId} has an entry in {@value #NODES} (it renews its leases). */
  Future<Boolean> alive(String nodeId) {
    return nodes.get(nodeId).map(v -> v != null);
  }

  /** Every lease of this group, encoded, by job id. */
  Future<Map<String, String>> groupLeases() {
    return leases
        .entries()
        .map(
            all -> {
              Map<String, String> out = new HashMap<>();
              String prefix = group + "/";
              all.forEach(
                  (k, v) -> {
                    if (k.startsWith(prefix)) {
                      out.put(k.substring(prefix.length()), v);
                    }
                  });
              return out;
            });
  }

  /** Puts {@code mine} if {@code jobId} has no lease; completes with the one it had, or null. */
  Future<String> putIfAbsent(String jobId, Lease mine) {
    return leases.putIfAbsent(key(jobId), mine.encode());
  }

  /** Replaces {@code jobId}'s lease with {@code mine} if it is still {@code before}. */
  Future<Boolean> replace(String jobId, String before, Lease mine) {
    return leases.replaceIfPresent(key(jobId), before, mine.encode());
  }

  /** Removes {@code jobId}'s lease if it is still {@code mine}. */
  Future<Void> remove(String jobId, Lease mine) {
    return leases == null
        ? Future.succeededFuture()
        : leases.removeIfPresent(key(jobId), mine.encode()).mapEmpty();
  }

  /** The live nodes of this group (their entries in {@value #NODES}), this one included. */
  Future<Set<String>> groupNodes() {
    if (nodes == null) {
      return Future.succeededFuture(Set.of());
    }
    return nodes
        .entries()
        .map(
            all -> {
              Set<String> out = new HashSet<>();
              all.forEach(
                  (id, value) -> {
                    try {
                      if (group.equals(new JsonObject(value).getString("group"))) {
                        out.add(id);
                      }
                    } catch (RuntimeException notOurs) {
                      // an entry another version wrote: not a node of this group
                    }
                  });
              return out;
            });
  }

  /** The leases of this group whose node has no entry any more: jobs to take over. */
  Future<List<Orphan>> orphans() {
    if (leases == null) {
      return Future.succeededFuture(List.of());
    }
    return nodes
        .keys()
        .compose(
            alive ->
                groupLeases()
                    .map(
                        all -> {
                          List<Orphan> out = new ArrayList<>();
                          all.forEach(
                              (jobId, value) -> {
                                Lease l = Lease.decode(value);
                                if (!l.node().equals(node) && !alive.contains(l.node())) {
                                  out.add(new Orphan(jobId, value, l));
                                }
                              });
                          return out;
                        }));
  }
}
