package dev.latentstream.bus;

/** Event-bus addresses, named by direction. */
public final class Addresses {
  private Addresses() {}

  /** HTTP → trainer: request/reply JSON commands ({@code op} names the command). */
  public static final String TO_TRAINER = "latentstream.to-trainer";

  /** Trainer → anyone: published {@link TrainerEvent}s (status, step, epoch, setting, log, deleted). */
  public static final String FROM_TRAINER_EVENTS = "latentstream.from-trainer.events";

  /**
   * Trainer → anyone: published once a second by every trainer node, {@code {"node": id, "jobs": [num, ...]}};
   * gateways mark a node's jobs unreachable when it falls silent.
   */
  public static final String FROM_TRAINER_HEARTBEAT = "latentstream.from-trainer.heartbeat";

  /** Trainer → anyone: published rendered frames ({@link FrameMessage}). */
  public static final String FROM_TRAINER_FRAMES = "latentstream.from-trainer.frames";
}
