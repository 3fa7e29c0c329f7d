package dev.latentstream.jobs;

import dev.latentstream.rundir.RunFence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Counter;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which trainer node of a failover group trains each active job: a lease in the cluster's own store
 * (Hazelcast maps, through Vert.x shared data), so two nodes can never train the same job.
 *
 * <ul>
 *   <li>{@value #LEASES}: {@code group/jobId} → the owner ({@code node}, its {@code name} and a
 *       fencing {@code token} from a cluster-wide counter). Taken with {@code putIfAbsent}, moved
 *       to another node only with a compare-and-set ({@code replaceIfPresent}) from the value the
 *       taker saw, and removed when the job ends.
 *   <li>{@value #NODES}: {@code node} → its group, put with a time to live of {@link #NODE_TTL_MS}
 *       at every heartbeat. A lease whose node is missing there has expired: its node died, was cut
 *       off, or shut down, and another node of the group may take the job over.
 * </ul>
 *
 * <p>A node trusts its leases only {@link #VALID_MS} after the start of its last renewal that
 * succeeded (its node entry put and every lease read back as its own). That is shorter than the
 * time to live, so a node that stops renewing (frozen, cut off from the majority) stops writing
 * before any other node may take its jobs. The run directory records the owner too ({@link
 * RunFence}, under a token raised at each takeover), and the trainer's writes check it as part of
 * each write: a node frozen after it last confirmed its lease, or one that took a job over in a
 * split brain, cannot replace the owner's checkpoint or add rows.
 *
 * <p>The group: trainer nodes whose runs directories hold the same {@value #GROUP_FILE} (made once
 * by the first node, so nodes sharing a directory share it wherever they mount it).
 *
 * <p>Threads: the maps are used from the trainer verticle's context; {@link #valid} and {@link
 * #lostTo} are read by trainer threads.
 */
final class Leases {

  static final String LEASES = "latentstream.job-leases";
  static final String NODES = "latentstream.trainer-nodes";
  static final String TOKENS = "latentstream.lease-tokens";

  /** In the runs directory: the failover group's id. */
  static final String GROUP_FILE = ".latentstream-group";

  /**
   * A node entry lives this long without renewal (renewed every second): the time another node
   * waits before it takes over the jobs of one that stopped answering.
   */
  static final long NODE_TTL_MS = 6000;

  /** How long a node trusts its leases after the start of its last successful renewal. */
  static final long VALID_MS = 4000;

  private static final System.Logger LOG = System.getLogger(Leases.class.getName());

  /** A lease as stored: who holds it and under which token. */
  record Lease(String node, String name, long token) {
    String encode() {
      return new JsonObject().put("node", node).put("name", name).put("token", token).encode();
    }

    static Lease decode(String s) {
      JsonObject o = new JsonObject(s);
      return new Lease(o.getString("node"), o.getString("name"), o.getLong("token"));
    }
  }

  /** A lease another node held when it went away, as the taker saw it. */
  record Orphan(String jobId, String value, Lease lease) {}

  /** The lease is held by another live node, or was taken over by one. */
  static final class Taken extends RuntimeException {
    final String owner;

    Taken(String jobId, String owner) {
      super("job " + jobId + " is owned by node " + owner);
      this.owner = owner;
    }
  }

  final String node;
  final String name;
  final String group;
  private final Vertx vertx;
  private AsyncMap<String, String> leases;
  private AsyncMap<String, String> nodes;
  private Counter tokens;

  /** The leases this node holds, by job id. */
  private final Map<String, Lease> held = new ConcurrentHashMap<>();

  /** Jobs whose run directory {@link #take} or {@link #confirm} is making this node's now. */
  private final Set<String> taking = ConcurrentHashMap.newKeySet();

  /** The run directories this node has made its own under the leases it holds, by job id. */
  private final Map<String, RunFence> fences = new ConcurrentHashMap<>();

  /** Jobs whose lease another node holds now, with that node's name. */
  private final Map<String, String> lost = new ConcurrentHashMap<>();

  private volatile long validUntilNanos = System.nanoTime();

  /** The start of the unbroken run of successful renewals this node is in, or -1 outside one. */
  private long confirmedSinceNanos = -1;

  private boolean renewing;

  Leases(Vertx vertx, String node, String name, Path runsDir) {
    this.vertx = vertx;
    this.node = node;
    this.name = name;
    this.group = group(runsDir);
  }

  Future<Void> start() {
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
        .compose(
            c -> {
              tokens = c;
              return renew().<Void>mapEmpty();
            })
        .recover(
            t -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "cannot reach the cluster's leases yet: " + t.getMessage());
              return Future.succeededFuture();
            });
  }

  /** The failover group of {@code runsDir}: the id in its {@value #GROUP_FILE}, made if missing. */
  static String group(Path runsDir) {
    Path file = runsDir.resolve(GROUP_FILE);
    try {
      Files.createDirectories(runsDir);
      if (!Files.exists(file)) {
        Path tmp = runsDir.resolve(GROUP_FILE + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, UUID.randomUUID().toString());
        try {
          // No replace: of two nodes making it at once, the first one's id stands.
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException other) {
          Files.deleteIfExists(tmp);
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      String id = Files.readString(file).strip();
      if (id.isEmpty()) {
        throw new IOException(file + " is empty");
      }
      return id;
    } catch (IOException | RuntimeException e) {
      // The runs directory cannot be written (a readiness check says so): a group of its own.
      LOG.log(
          System.Logger.Level.WARNING,
          "cannot read or make " + file + " (" + e.getMessage() + "); this node is a group alone");
      return runsDir.toAbsolutePath().toString();
    }
  }

  private String key(String jobId) {
    return group + "/" + jobId;
  }

  /** This node trains {@code jobId} now: it holds the lease and trusts it. */
  boolean valid(String jobId) {
    return held.containsKey(jobId) && System.nanoTime() < validUntilNanos;
  }

  /** How long this node's leases have gone unconfirmed (0 while they are trusted). */
  long unconfirmedMillis() {
    return Math.max(0, (System.nanoTime() - validUntilNanos) / 1_000_000L);
  }

  /**
   * This node has renewed without a break for {@link #NODE_TTL_MS}: long enough for the cluster to
   * have told it of any member change while it was frozen or cut off, so a lease it reads as its
   * own is not a stale copy.
   */
  boolean steady() {
    return confirmedSinceNanos >= 0
        && System.nanoTime() - confirmedSinceNanos > NODE_TTL_MS * 1_000_000L
        && System.nanoTime() < validUntilNanos;
  }

  /** The node that took {@code jobId} from this one, or null. */
  String lostTo(String jobId) {
    return lost.get(jobId);
  }

  Lease held(String jobId) {
    return held.get(jobId);
  }

  Set<String> heldIds() {
    return Set.copyOf(held.keySet());
  }

  /**
   * Renews this node's entry, then reads back every lease it holds; the leases are trusted from the
   * start of this renewal for {@link #VALID_MS} if both succeed. Completes with the ids of leases
   * that another node holds now (forgotten here).
   */
  Future<List<String>> renew() {
    if (nodes == null || renewing) {
      return Future.succeededFuture(List.of());
    }
    renewing = true;
    long start = System.nanoTime();
    // Only the leases held when the read began are judged by it: one taken meanwhile (a takeover
    // racing this renewal) is newer than what the read saw.
    Map<String, Lease> before = Map.copyOf(held);
    return nodes
        .put(node, new JsonObject().put("group", group).put("name", name).encode(), NODE_TTL_MS)
        .compose(v -> leases.entries())
        .map(
            all -> {
              List<String> gone = new ArrayList<>();
              for (var e : before.entrySet()) {
                if (held.get(e.getKey()) != e.getValue()) {
                  continue;
                }
                String now = all.get(key(e.getKey()));
                if (now == null || !now.equals(e.getValue().encode())) {
                  gone.add(e.getKey());
                }
              }
              for (String id : gone) {
                String now = all.get(key(id));
                String owner = now == null ? "(none)" : Lease.decode(now).name();
                held.remove(id);
                fences.remove(id);
                lost.put(id, owner);
              }
              if (confirmedSinceNanos < 0 || start > validUntilNanos) {
                confirmedSinceNanos = start; // the first renewal, or one after a lapse
              }
              validUntilNanos = start + VALID_MS * 1_000_000L;
              return gone;
            })
        .andThen(
            ar -> {
              renewing = false;
              if (ar.failed()) {
                confirmedSinceNanos = -1;
              }
            });
  }

  /**
   * Takes the lease of a job nobody holds, or of one whose node has gone.
   *
   * @return a future failed with {@link Taken} when another live node holds it
   */
  Future<Lease> acquire(String jobId) {
    return tokens
        .incrementAndGet()
        .compose(
            token -> {
              Lease mine = new Lease(node, name, token);
              return leases
                  .putIfAbsent(key(jobId), mine.encode())
                  .compose(
                      before -> {
                        if (before == null) {
                          return Future.succeededFuture(hold(jobId, mine));
                        }
                        Lease other = Lease.decode(before);
                        if (other.node().equals(node)) {
                          held.put(jobId, other);
                          return Future.succeededFuture(other);
                        }
                        return nodes
                            .get(other.node())
                            .compose(
                                alive ->
                                    alive != null
                                        ? Future.failedFuture(new Taken(jobId, other.name()))
                                        : moveTo(jobId, before, mine));
                      });
            });
  }

  /** Moves {@code jobId}'s lease from {@code before} (an absent node's) to this node. */
  private Future<Lease> moveTo(String jobId, String before, Lease mine) {
    return leases
        .replaceIfPresent(key(jobId), before, mine.encode())
        .compose(
            moved ->
                moved
                    ? Future.succeededFuture(hold(jobId, mine))
                    : Future.failedFuture(new Taken(jobId, "another node")));
  }

  private Lease hold(String jobId, Lease mine) {
    held.put(jobId, mine);
    lost.remove(jobId);
    return mine;
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
              Set<String> out = new java.util.HashSet<>();
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
                leases
                    .entries()
                    .map(
                        all -> {
                          List<Orphan> out = new ArrayList<>();
                          String prefix = group + "/";
                          for (var e : all.entrySet()) {
                            if (!e.getKey().startsWith(prefix)) {
                              continue;
                            }
                            Lease l = Lease.decode(e.getValue());
                            if (!l.node().equals(node) && !alive.contains(l.node())) {
                              out.add(
                                  new Orphan(
                                      e.getKey().substring(prefix.length()), e.getValue(), l));
                            }
                          }
                          return out;
                        }));
  }

  /** Takes over an orphan's lease with a fresh token, unless another node was faster. */
  Future<Lease> takeOver(Orphan o) {
    return tokens
        .incrementAndGet()
        .compose(token -> moveTo(o.jobId(), o.value(), new Lease(node, name, token)));
  }

  /** The job ended here: its lease goes (only if it is still this node's). */
  Future<Void> release(String jobId) {
    Lease mine = held.remove(jobId);
    fences.remove(jobId);
    if (mine == null || leases == null) {
      return Future.succeededFuture();
    }
    return leases.removeIfPresent(key(jobId), mine.encode()).mapEmpty();
  }

  /**
   * This node leaves the group (a graceful shutdown, after its trainers stopped): its node entry
   * goes, so the others take its jobs over at once instead of after {@link #NODE_TTL_MS}.
   */
  Future<Void> leave() {
    validUntilNanos = System.nanoTime();
    return nodes == null ? Future.succeededFuture() : nodes.remove(node).mapEmpty();
  }

  /**
   * Makes this node the owner of {@code runDir} on the disk under {@code lease} ({@link
   * RunFence#take}, on a worker: it waits while a frozen former owner holds the file's lock), and
   * keeps the fence its trainer writes through. Completes once the run directory names this node.
   */
  Future<RunFence> take(String jobId, Path runDir, Lease lease) {
    taking.add(jobId);
    return vertx
        .executeBlocking(
            () -> RunFence.of(runDir, RunFence.take(runDir, lease.token(), node, name)), false)
        .map(
            f -> {
              if (lease.equals(held.get(jobId))) {
                fences.put(jobId, f);
              }
              return f;
            })
        .andThen(ar -> taking.remove(jobId));
  }

  /**
   * A lease of {@code jobId} is being taken on the disk: its job is not queued yet, but it is not
   * one this node let go of either.
   */
  boolean taking(String jobId) {
    return taking.contains(jobId);
  }

  /**
   * The fence of {@code runDir} if the disk still names this node its owner (a job this node let go
   * of while its lease went unconfirmed); fails with {@link Taken} when it names another node.
   * Never raises the token: a node that only believes it holds the lease (a stale view of a split
   * cluster) cannot take the run directory from the node that writes it.
   */
  Future<RunFence> confirm(String jobId, Path runDir, Lease lease) {
    taking.add(jobId);
    return vertx
        .executeBlocking(() -> RunFence.owner(runDir), false)
        .andThen(ar -> taking.remove(jobId))
        .compose(
            owner -> {
              if (owner == null || !owner.nodeId().equals(node)) {
                return Future.failedFuture(
                    new Taken(jobId, owner == null ? "(none)" : owner.node()));
              }
              RunFence f = RunFence.of(runDir, owner);
              if (lease.equals(held.get(jobId))) {
                fences.put(jobId, f);
              }
              return Future.succeededFuture(f);
            });
  }

  /** The fence this node writes {@code jobId}'s run directory through, or null. */
  RunFence fence(String jobId) {
    return fences.get(jobId);
  }
}
