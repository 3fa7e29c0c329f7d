package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.rundir.RunFence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A trainer node's part in its failover group (the trainer nodes that share a runs directory; see
 * {@link Leases}): every second, and at once when Hazelcast's membership listener says a member
 * left, it takes over the jobs of nodes that went away, from their newest whole checkpoint, and
 * lists the finished runs only such a node listed. Its start-up claims are {@link StartupClaims}'s,
 * its renewals at every heartbeat {@link LeaseRenewal}'s; its scans run one at a time through a
 * {@link ScanGuard}, which logs their failures. Threads: runs on the trainer verticle's context.
 */
final class Failover {

  static final long SCAN_MS = 1000;

  /**
   * A scan not completed by then is given up ({@link ScanGuard}), so that a cluster read that never
   * answers cannot stop this node from scanning for good. A takeover still under way finishes on
   * its own, and the lease it moved to this node is no orphan to the next scan.
   */
  static final long SCAN_TIMEOUT_MS = 20_000;

  private static final System.Logger LOG = System.getLogger(Failover.class.getName());

  private final Vertx vertx;
  final Leases leases;
  private final JobQueue queue;
  private final JobControl control;
  private final Path runsDir;
  private final Runnable beat;
  private final StartupClaims claims;
  private final LeaseRenewal renewal;
  private final ScanGuard scans =
      new ScanGuard(SCAN_TIMEOUT_MS, this::scanOnce, new ScanFailures(LOG, System::nanoTime));

  /** The group's live nodes at the last scan: one missing now went away. */
  private Set<String> groupNodes = Set.of();

  private long timer = -1;

  Failover(
      Vertx vertx, Leases leases, JobQueue queue, JobControl control, Path runsDir, Runnable beat) {
    this.vertx = vertx;
    this.leases = leases;
    this.queue = queue;
    this.control = control;
    this.runsDir = runsDir;
    this.beat = beat;
    this.claims = new StartupClaims(leases, control);
    this.renewal = new LeaseRenewal(leases, queue, control, runsDir, beat);
  }

  /**
   * Sorts the runs found at start-up: those whose status says they were active (queued, running,
   * paused, interrupted) are this node's only once it holds their lease. Completes with the runs to
   * restore as usual and, separately, those a node that went away was running (to adopt).
   */
  Future<Sorted> sort(List<Job> found) {
    return claims.sort(found);
  }

  record Sorted(List<Job> restore, List<Job> adopt) {}

  /** A run of {@code name} that another live node trains: what a default job start answers. */
  JsonObject ownedElsewhere(String name) {
    return claims.ownedElsewhere(name);
  }

  /** Adopts, after the restore, the runs that were running on a node that went away. */
  void adopt(List<Job> jobs) {
    claims.adopt(jobs);
  }

  void start() {
    timer = vertx.setPeriodic(SCAN_MS, id -> scan());
    vertx
        .eventBus()
        .<String>localConsumer(
            Addresses.CLUSTER_MEMBER_LEFT,
            m -> {
              LOG.log(
                  System.Logger.Level.INFO,
                  "cluster member " + m.body() + " left: looking for its jobs");
              scan();
            });
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Renews the leases at a heartbeat ({@link LeaseRenewal#renew}). */
  void renew() {
    renewal.renew();
  }

  /**
   * Takes over every job of this group whose node went away; when a node of the group went, lists
   * the finished runs only it listed (see {@link #listRunsLeftBehind}).
   */
  void scan() {
    scans.run();
  }

  private Future<Void> scanOnce() {
    return leases
        .maps
        .groupNodes()
        .compose(
            alive ->
                leases
                    .maps
                    .orphans()
                    .compose(
                        orphans -> {
                          Future<Void> chain = Future.succeededFuture();
                          for (LeaseMaps.Orphan o : orphans) {
                            chain = chain.compose(v -> takeOver(o));
                          }
                          return chain;
                        })
                    .map(
                        v -> {
                          boolean someoneLeft =
                              groupNodes.stream()
                                  .anyMatch(n -> !n.equals(leases.node) && !alive.contains(n));
                          groupNodes = alive;
                          if (someoneLeft) {
                            listRunsLeftBehind();
                          }
                          return (Void) null;
                        }));
  }

  /**
   * Lists the finished runs of the shared runs directory that this node does not list yet: those a
   * node that went away finished after this one started. They are whole on the disk, so viewers see
   * them as they ended (and their files are served from here), not {@code unreachable}. Active runs
   * are left to their leases.
   */
  private void listRunsLeftBehind() {
    List<Recovery.Found> found;
    try {
      found = new Recovery(runsDir).scan();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot list the runs in " + runsDir + ": " + e);
      return;
    }
    int listed = 0;
    for (Recovery.Found f : found) {
      String id = f.dir().getFileName().toString();
      String raw = f.status() == null ? null : f.status().getString("status");
      boolean active =
          f.damage() == null
              && ("queued".equals(raw)
                  || "running".equals(raw)
                  || "paused".equals(raw)
                  || "interrupted".equals(raw));
      if (f.num() <= 0 || active || queue.containsId(id) || queue.find(f.num()).isPresent()) {
        continue;
      }
      control.listFound(Recovery.job(f, f.num()));
      listed++;
    }
    if (listed > 0) {
      LOG.log(
          System.Logger.Level.INFO,
          "a node of the failover group went away: "
              + listed
              + " of its finished runs listed here");
      beat.run();
    }
  }

  private Future<Void> takeOver(LeaseMaps.Orphan o) {
    Path dir = runsDir.resolve(o.jobId());
    return leases
        .takeOver(o)
        .compose(
            lease -> {
              if (!Files.isRegularFile(dir.resolve("job.json"))) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "job " + o.jobId() + " of node " + o.lease().name() + " has no run directory");
                leases.release(o.jobId());
                return Future.<RunFence>succeededFuture(null);
              }
              // The run directory is this node's before it reads the checkpoint: the node that
              // went away, should it only be frozen, can put no newer one into place after this.
              return leases.take(o.jobId(), dir, lease);
            })
        .map(
            fence -> {
              if (fence == null) {
                return null;
              }
              Recovery.Found f = Recovery.read(dir);
              Job was = Recovery.job(f, f.num());
              if (was.is(Job.Status.damaged)) {
                queue.list(was);
                leases.release(o.jobId());
                return null;
              }
              control.adopt(was, o.lease().name(), "paused".equals(StartupClaims.rawStatus(dir)));
              beat.run();
              return (Void) null;
            })
        .recover(
            t -> {
              if (!(t instanceof Leases.Taken)) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot take over job " + o.jobId() + ": " + t.getMessage());
              }
              return Future.succeededFuture();
            });
  }
}
