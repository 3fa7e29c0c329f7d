package dev.latentstream.bus;

/** Event-bus addresses, named by direction. */
public final class Addresses {
  private Addresses() {}

  /** HTTP → trainer: request/reply JSON commands ({@code op} names the command). */
  public static final String TO_TRAINER = "latentstream.to-trainer";

  /** Trainer → anyone: published {@link TrainerEvent}s (status, step, epoch, setting, log, deleted). */
  public static final String FROM_TRAINER_EVENTS = "latentstream.from-trainer.events";

  /** Trainer → anyone: published rendered frames ({@link FrameMessage}). */
  public static final String FROM_TRAINER_FRAMES = "latentstream.from-trainer.frames";
}
