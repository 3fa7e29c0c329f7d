package dev.latentstream.jobs;

/**
 * A command that cannot be carried out; {@link TrainerVerticle} turns it into a failed reply with
 * {@code code} (the protocol's error codes). Thrown on the trainer verticle's context.
 */
final class ReplyError extends RuntimeException {

  static final int BAD_REQUEST = 400;
  static final int NOT_FOUND = 404;
  static final int CONFLICT = 409;
  static final int INTERNAL = 500;

  /** The interactive budget or the queue is spent: the gateway answers {@code busy}/unavailable. */
  static final int UNAVAILABLE = 503;

  final int code;

  ReplyError(int code, String message) {
    super(message);
    this.code = code;
  }
}
