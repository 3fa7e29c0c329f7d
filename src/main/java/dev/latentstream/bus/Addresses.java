package dev.latentstream.bus;

/** Event-bus addresses, named by direction. */
public final class Addresses {
  private Addresses() {}

  /** HTTP → any trainer node: request/reply commands ({@link TrainerCommand}). */
  public static final String TO_TRAINER = "latentstream.to-trainer";

  /**
   * HTTP → one trainer node, the one that owns the job a command names (see {@link TrainerRoutes}).
   */
  public static String toTrainer(String node) {
    return TO_TRAINER + "." + node;
  }

  /**
   * Trainer → anyone: published {@link TrainerEvent}s (status, step, epoch, setting, log, deleted).
   */
  public static final String FROM_TRAINER_EVENTS = "latentstream.from-trainer.events";

  /**
   * Trainer → anyone: published once a second by every trainer node, {@code {"node": id, "name":
   * host:port (on a cluster: the node's name in job objects), "jobs": [num, ...], "ids": [id, ...],
   * "failovers": [count, ...]}} (the three arrays in the same order); gateways route commands by it
   * and mark a node's jobs unreachable when it falls silent.
   */
  public static final String FROM_TRAINER_HEARTBEAT = "latentstream.from-trainer.heartbeat";

  /**
   * Cluster → this process only: published (locally) with a member's id when Hazelcast says it left
   * the cluster; trainer nodes of a failover group then look for its jobs at once.
   */
  public static final String CLUSTER_MEMBER_LEFT = "latentstream.cluster.member-left";

  /** Trainer → anyone: published rendered frames ({@link FrameMessage}). */
  public static final String FROM_TRAINER_FRAMES = "latentstream.from-trainer.frames";
}
