package dev.latentstream.jobs;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trainer node's claims on the runs it finds at start-up, in a failover group: it takes the lease
 * of each active run, leaves the runs another live node owns to that node (and remembers them, so a
 * default job is not started twice), and adopts those a node that went away was running. Runs on
 * the trainer verticle's context.
 */
final class StartupClaims {

  private static final System.Logger LOG = System.getLogger(StartupClaims.class.getName());

  private final Leases leases;
  private final JobControl control;

  /** Runs another live node owns, by id: their job objects as their status.json says. */
  private final Map<String, JsonObject> ownedElsewhere = new HashMap<>();

  StartupClaims(Leases leases, JobControl control) {
    this.leases = leases;
    this.control = control;
  }

  /** See {@link Failover#sort}. */
  Future<Failover.Sorted> sort(List<Job> found) {
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
    return chain.map(v -> new Failover.Sorted(keep, adopt));
  }

  /** A run its status says was running or paused when its node went (Recovery lists it stopped). */
  private static boolean wasRunning(Job j) {
    String st = rawStatus(j.runDir);
    return "running".equals(st) || "paused".equals(st);
  }

  /** The status a run's {@code status.json} names, or null. */
  static String rawStatus(Path dir) {
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
}
