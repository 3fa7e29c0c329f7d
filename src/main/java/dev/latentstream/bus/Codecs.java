package dev.latentstream.bus;

import io.vertx.core.Vertx;

/** Registers the contract's event-bus codecs on a Vertx instance. */
public final class Codecs {
  private Codecs() {}

  /**
   * Frames, and one codec per trainer event and command record (default codecs are looked up by
   * exact class). Once per Vertx instance; a second call on the same instance is a no-op.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(FrameMessage.class, new FrameMessage.Codec());
      for (Class c : TrainerEvent.class.getPermittedSubclasses()) {
        vertx.eventBus().registerDefaultCodec(c, new TrainerEvent.Codec(c));
      }
      for (Class c : TrainerCommand.class.getPermittedSubclasses()) {
        vertx.eventBus().registerDefaultCodec(c, new TrainerCommand.Codec(c));
      }
    } catch (IllegalStateException alreadyRegistered) {
      // registered by an earlier server on this Vertx
    }
  }
}
