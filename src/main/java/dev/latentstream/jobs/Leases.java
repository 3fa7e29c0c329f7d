package dev.latentstream.jobs;

import dev.latentstream.rundir.RunFence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which jobs this trainer node holds the lease of, and whether it may trust them now: a lease in
 * the cluster's own store ({@link LeaseMaps}), so two nodes can never train the same job, and the
 * run directory made this node's under it ({@link RunOwners}).
 *
 * <p>A node trusts its leases only {@link #VALID_MS} after the start of its last renewal that
 * succeeded (its node entry put and every lease read back as its own). That is shorter than the
 * time to live of its node entry ({@link #NODE_TTL_MS}), so a node that stops renewing (frozen, cut
 * off from the majority) stops writing before any other node may take its jobs. The run directory
 * records the owner too ({@link RunFence}, under a token raised at each takeover), and the
 * trainer's writes check it as part of each write: a node frozen after it last confirmed its lease,
 * or one that took a job over in a split brain, cannot replace the owner's checkpoint or add rows.
 *
 * <p>The group: trainer nodes whose runs directories hold the same {@value FailoverGroup#FILE}
 * ({@link FailoverGroup}).
 *
 * <p>Threads: the maps are used from the trainer verticle's context; {@link #valid}, {@link
 * #lostTo} and {@link #fence} are read by trainer threads.
 */
final class Leases {

  /**
   * A node entry lives this long without renewal (renewed every second): the time another node
   * waits before it takes over the jobs of one that stopped answering.
   */
  static final long NODE_TTL_MS = 6000;

  /** How long a node trusts its leases after the start of its last successful renewal. */
  static final long VALID_MS = 4000;

  private static final System.Logger LOG = System.getLogger(Leases.class.getName());

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

  /** The cluster's store of the group's leases. */
  final LeaseMaps maps;

  /** The run directories this node made its own under its leases. */
  final RunOwners disk;

  /** The leases this node holds, by job id. */
  private final Map<String, Lease> held = new ConcurrentHashMap<>();

  /** Jobs whose lease another node holds now, with that node's name. */
  private final Map<String, String> lost = new ConcurrentHashMap<>();

  private volatile long validUntilNanos = System.nanoTime();

  /** The start of the unbroken run of successful renewals this node is in, or -1 outside one. */
  private long confirmedSinceNanos = -1;

  private boolean renewing;

  Leases(Vertx vertx, String node, String name, Path runsDir) {
    this.node = node;
    this.name = name;
    this.group = FailoverGroup.of(runsDir);
    this.maps = new LeaseMaps(vertx, node, name, group);
    this.disk = new RunOwners(vertx, node, name, held::get);
  }

  Future<Void> start() {
    return maps.open()
        .compose(v -> renew().<Void>mapEmpty())
        .recover(
            t -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "cannot reach the cluster's leases yet: " + t.getMessage());
              return Future.succeededFuture();
            });
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
    if (!maps.reached() || renewing) {
      return Future.succeededFuture(List.of());
    }
    renewing = true;
    long start = System.nanoTime();
    // Only the leases held when the read began are judged by it: one taken meanwhile (a takeover
    // racing this renewal) is newer than what the read saw.
    Map<String, Lease> before = Map.copyOf(held);
    return maps.putNode(NODE_TTL_MS)
        .compose(v -> maps.groupLeases())
        .map(
            all -> {
              List<String> gone = new ArrayList<>();
              for (var e : before.entrySet()) {
                if (held.get(e.getKey()) != e.getValue()) {
                  continue;
                }
                String now = all.get(e.getKey());
                if (now == null || !now.equals(e.getValue().encode())) {
                  gone.add(e.getKey());
                }
              }
              for (String id : gone) {
                String now = all.get(id);
                String owner = now == null ? "(none)" : Lease.decode(now).name();
                held.remove(id);
                disk.forget(id);
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
    return maps.nextToken()
        .compose(
            token -> {
              Lease mine = new Lease(node, name, token);
              return maps.putIfAbsent(jobId, mine)
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
                        return maps.alive(other.node())
                            .compose(
                                alive ->
                                    alive
                                        ? Future.failedFuture(new Taken(jobId, other.name()))
                                        : moveTo(jobId, before, mine));
                      });
            });
  }

  /** Moves {@code jobId}'s lease from {@code before} (an absent node's) to this node. */
  private Future<Lease> moveTo(String jobId, String before, Lease mine) {
    return maps.replace(jobId, before, mine)
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

  /** Takes over an orphan's lease with a fresh token, unless another node was faster. */
  Future<Lease> takeOver(LeaseMaps.Orphan o) {
    return maps.nextToken()
        .compose(token -> moveTo(o.jobId(), o.value(), new Lease(node, name, token)));
  }

  /** The job ended here: its lease goes (only if it is still this node's). */
  Future<Void> release(String jobId) {
    Lease mine = held.remove(jobId);
    disk.forget(jobId);
    return mine == null ? Future.succeededFuture() : maps.remove(jobId, mine);
  }

  /**
   * This node leaves the group (a graceful shutdown, after its trainers stopped): its node entry
   * goes, so the others take its jobs over at once instead of after {@link #NODE_TTL_MS}.
   */
  Future<Void> leave() {
    validUntilNanos = System.nanoTime();
    return maps.removeNode();
  }

  /** Makes {@code runDir} this node's on the disk under {@code lease} ({@link RunOwners#take}). */
  Future<RunFence> take(String jobId, Path runDir, Lease lease) {
    return disk.take(jobId, runDir, lease);
  }

  /** The fence this node writes {@code jobId}'s run directory through, or null. */
  RunFence fence(String jobId) {
    return disk.fence(jobId);
  }
}
