package dev.latentstream.jobs;

import dev.latentstream.rundir.RunFence;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The disk side of a node's leases: the run directories it has made its own ({@link RunFence},
 * {@code lease.json}) under the leases it holds, and the fences its trainers write through. {@link
 * #take} and {@link #confirm} start on the trainer verticle's context and do their file work on a
 * worker; {@link #fence} is read by trainer threads.
 */
final class RunOwners {

  private final Vertx vertx;
  private final String node;
  private final String name;

  /** The lease this node holds now for a job id, or null ({@link Leases#held}). */
  private final Function<String, Lease> held;

  /** Jobs whose run directory {@link #take} or {@link #confirm} is making this node's now. */
  private final Set<String> taking = ConcurrentHashMap.newKeySet();

  /** The run directories this node has made its own under the leases it holds, by job id. */
  private final Map<String, RunFence> fences = new ConcurrentHashMap<>();

  RunOwners(Vertx vertx, String node, String name, Function<String, Lease> held) {
    this.vertx = vertx;
    this.node = node;
    this.name = name;
    this.held = held;
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
              if (lease.equals(held.apply(jobId))) {
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
   * of while its lease went unconfirmed); fails with {@link Leases.Taken} when it names another
   * node. Never raises the token: a node that only believes it holds the lease (a stale view of a
   * split cluster) cannot take the run directory from the node that writes it.
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
                    new Leases.Taken(jobId, owner == null ? "(none)" : owner.node()));
              }
              RunFence f = RunFence.of(runDir, owner);
              if (lease.equals(held.apply(jobId))) {
                fences.put(jobId, f);
              }
              return Future.succeededFuture(f);
            });
  }

  /** The fence this node writes {@code jobId}'s run directory through, or null. */
  RunFence fence(String jobId) {
    return fences.get(jobId);
  }

  /** The lease of {@code jobId} is no longer this node's: its trainer writes through no fence. */
  void forget(String jobId) {
    fences.remove(jobId);
  }
}
