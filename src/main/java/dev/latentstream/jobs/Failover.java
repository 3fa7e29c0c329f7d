package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.rundir.RunFence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trainer node's part in its failover group (the trainer nodes that share a runs directory; see
 * {@link Leases}): at start-up it takes the lease of each active run it finds, and leaves the runs
 * another live node owns to that node; every second (and at once when Hazelcast says a member left)
 * it takes over the jobs of nodes that went away, from their newest whole checkpoint; at every
 * heartbeat it renews its leases and lets go of any job another node took from it. Threads: runs on
 * the trainer verticle's context.
 */
final class Failover {

  static final long SCAN_MS = 1000;

  private static final System.Logger LOG = System.getLogger(Failover.class.getName());

  private final Vertx vertx;
  final Leases leases;
  private final JobQueue queue;
  private final JobControl control;
  private final Path runsDir;
  private final Runnable beat;
  private boolean scanning;

  /** The group's live nodes at the last scan: one missing now went away. */
  private java.util.Set<String> groupNodes = java.util.Set.of();

  private long timer = -1;

  /** Runs another live node owns, by id: their job objects as their status.json says. */
  private final Map<String, JsonObject> ownedElsewhere = new HashMap<>();

  Failover(
      Vertx vertx, Leases leases, JobQueue queue, JobControl control, Path runsDir, Runnable beat) {
    this.vertx = vertx;
    this.leases = leases;
    this.queue = queue;
    this.control = control;
    this.runsDir = runsDir;
    this.beat = beat;
  }

  /**
   * Sorts the runs found at start-up: those whose status says they were active (queued, running,
   * paused, interrupted) are this node's only once it holds their lease. Completes with the runs to
   * restore as usual and, separately, those a node that went away was running (to adopt).
   */
  Future<Sorted> sort(List<Job> found) {
    List<Job> keep = new ArrayList<>();
    List<Job> adopt = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (Job j : found) {
      if (!j.active() && !j.is(Job.Status.interrupted) && !wasRunning(j)) {
        keep.add(j);
        continue;
      }
      chain =
          chain.compose(
              v ->
                  leases
                      .acquire(j.id)
                      .compose(lease -> leases.take(j.id, j.runDir, lease))
                      .map(
                          fence -> {
                            (wasRunning(j) ? adopt : keep).add(j);
                            return (Void) null;
                          })
                      .recover(
                          t -> {
                            if (t instanceof Leases.Taken taken) {
                              ownedElsewhere.put(j.id, statusOf(j));
                              LOG.log(
                                  System.Logger.Level.WARNING,
                                  "job "
                                      + j.id
                                      + " is owned by node "
                                      + taken.owner
                                      + ": not resuming it here");
                            } else {
                              LOG.log(
                                  System.Logger.Level.WARNING,
                                  "cannot take the lease of "
                                      + j.id
                                      + " ("
                                      + t.getMessage()
                                      + "); it is not resumed here");
                            }
                            return Future.succeededFuture();
                          }));
    }
    return chain.map(v -> new Sorted(keep, adopt));
  }

  record Sorted(List<Job> restore, List<Job> adopt) {}

  /** A run its status says was running or paused when its node went (Recovery lists it stopped). */
  private static boolean wasRunning(Job j) {
    String st = rawStatus(j.runDir);
    return "running".equals(st) || "paused".equals(st);
  }

  private static String rawStatus(Path dir) {
    try {
      return new JsonObject(Files.readString(dir.resolve("status.json"))).getString("status");
    } catch (Exception e) {
      return null;
    }
  }

  private static JsonObject statusOf(Job j) {
    try {
      return new JsonObject(Files.readString(j.runDir.resolve("status.json")));
    } catch (Exception e) {
      return j.toJson();
    }
  }

  /** A run of {@code name} that another live node trains: what a default job start answers. */
  JsonObject ownedElsewhere(String name) {
    return ownedElsewhere.values().stream()
        .filter(o -> name.equals(o.getString("name")))
        .findFirst()
        .orElse(null);
  }

  /** Adopts, after the restore, the runs that were running on a node that went away. */
  void adopt(List<Job> jobs) {
    for (Job j : jobs) {
      control.adopt(j, j.node, "paused".equals(rawStatus(j.runDir)));
    }
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

  /** Renews the leases; a job another node took from this one is let go. */
  void renew() {
    leases
        .renew()
        .onSuccess(
            gone -> {
              for (String id : gone) {
                queue.find(id).ifPresent(j -> control.lostLease(j, leases.lostTo(id)));
              }
              boolean retaken = false;
              for (String id : leases.heldIds()) {
                if (leases.steady() && queue.find(id).isEmpty() && !leases.taking(id)) {
                  retaken |= retake(id);
                }
              }
              if (!gone.isEmpty() || retaken) {
                beat.run();
              }
            });
  }

  /**
   * Takes over every job of this group whose node went away; when a node of the group went, lists
   * the finished runs only it listed (see {@link #listRunsLeftBehind}).
   */
  void scan() {
    if (scanning) {
      return;
    }
    scanning = true;
    leases
        .groupNodes()
        .compose(
            alive ->
                leases
                    .orphans()
                    .compose(
                        orphans -> {
                          Future<Void> chain = Future.succeededFuture();
                          for (Leases.Orphan o : orphans) {
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
                        }))
        .onComplete(
            ar -> {
              scanning = false;
              if (ar.failed()) {
                LOG.log(
                    System.Logger.Level.DEBUG, "failover scan failed: " + ar.cause().getMessage());
              }
            });
  }

  /**
   * A job this node let go of when it could not confirm its lease (see LeaseFence), whose lease
   * proved to be still its own: it continues here from its newest whole checkpoint.
   */
  private boolean retake(String id) {
    Path dir = runsDir.resolve(id);
    if (!Files.isRegularFile(dir.resolve("job.json"))) {
      leases.release(id);
      return false;
    }
    Recovery.Found f = Recovery.read(dir);
    Job was = Recovery.job(f, f.num());
    if (was.is(Job.Status.damaged)) {
      queue.list(was);
      leases.release(id);
      return false;
    }
    Leases.Lease lease = leases.held(id);
    if (lease == null) {
      return false;
    }
    leases
        .confirm(id, dir, lease)
        .onSuccess(
            fence -> {
              if (queue.find(id).isPresent() || leases.held(id) == null) {
                return; // taken up, or lost, meanwhile
              }
              LOG.log(
                  System.Logger.Level.INFO,
                  "the lease of job " + id + " is still this node's: it continues here");
              control.adopt(was, leases.name, "paused".equals(rawStatus(dir)));
              beat.run();
            })
        .onFailure(
            t -> {
              if (leases.held(id) == lease) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "job " + id + " is not taken up again: " + t.getMessage());
                leases.release(id);
              }
            });
    return false;
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

  private Future<Void> takeOver(Leases.Orphan o) {
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
              control.adopt(was, o.lease().name(), "paused".equals(rawStatus(dir)));
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
