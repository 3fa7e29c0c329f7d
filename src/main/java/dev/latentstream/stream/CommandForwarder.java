package dev.latentstream.stream;

import dev.latentstream.bus.Busy;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.stream.Protocol.Codes;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * Sends a client's command to the trainer node that owns the job, and the reply (a result, or an
 * error with the protocol's code) back to the client.
 *
 * <p>Threads: one per hub, on its event loop; replies come back there.
 */
final class CommandForwarder {

  /**
   * The retry hint sent with {@code busy} for a trainer's refusal that carries no figure of its
   * own: about one request's time.
   */
  static final long BUSY_RETRY_MS = 200;

  /** Where commands go: the node that owns the job. */
  private final TrainerRoutes routes;

  CommandForwarder(TrainerRoutes routes) {
    this.routes = routes;
  }

  Future<Void> forward(ClientSession s, String id, String requestType, TrainerCommand command) {
    return forward(s, id, requestType, command, busy -> {}, result -> {});
  }

  /**
   * Sends {@code command} to the trainer and its reply to the client; {@code onBusy} hears the
   * trainer's busy, {@code onResult} sees a result before the client does.
   */
  Future<Void> forward(
      ClientSession s,
      String id,
      String requestType,
      TrainerCommand command,
      java.util.function.Consumer<Busy> onBusy,
      java.util.function.Consumer<JsonObject> onResult) {
    return routes
        .request(command)
        .transform(
            ar -> {
              if (ar.succeeded()) {
                onResult.accept(ar.result());
                s.send(
                    new ServerMessage.Result(
                        ServerMessage.RESULT_TYPES.get(requestType), id, ar.result()));
              } else {
                String code = code(ar.cause());
                if (Codes.BUSY.equals(code) && ar.cause() instanceof ReplyException r) {
                  // The trainer refused for its global budget: its own figure for when to try
                  // again.
                  Busy busy = Busy.of(r, BUSY_RETRY_MS);
                  onBusy.accept(busy);
                  s.send(new ServerMessage.Error(id, code, busy.message(), busy.retryAfterMs()));
                } else {
                  s.send(new ServerMessage.Error(id, code, ar.cause().getMessage(), null));
                }
              }
              return Future.succeededFuture();
            });
  }

  static String code(Throwable t) {
    if (t instanceof ReplyException r) {
      return switch (r.failureCode()) {
        case 400 -> Codes.BAD_REQUEST;
        case 404 -> Codes.UNKNOWN_JOB;
        case 409 -> Codes.CONFLICT;
        case Busy.FAILURE_CODE -> Codes.BUSY;
        case 503 -> Codes.UNAVAILABLE;
        // No trainer node answered (none registered, or it timed out): not the server's fault.
        default ->
            r.failureType() == ReplyFailure.RECIPIENT_FAILURE ? Codes.INTERNAL : Codes.UNAVAILABLE;
      };
    }
    return Codes.INTERNAL;
  }
}
