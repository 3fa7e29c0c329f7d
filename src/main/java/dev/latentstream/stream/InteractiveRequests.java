package dev.latentstream.stream;

import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.Codes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Interactive model requests (decode, encode, interpolate, attribute), rationed: a client has a
 * limit of requests in flight and a share of the trainer's time, charged up front at what a request
 * is likely to cost and settled at the trainer's own figure; while the trainer says it has no time,
 * the answer {@code busy} is known here.
 *
 * <p>Threads: one per hub, on its event loop.
 */
final class InteractiveRequests {

  /**
   * The retry hint sent with {@code busy} for the per-client limit: the client's own replies are
   * what it waits for, about one request's time.
   */
  static final long BUSY_RETRY_MS = CommandForwarder.BUSY_RETRY_MS;

  private final ServerConfig config;
  private final CommandForwarder forwarder;

  /**
   * Trainer time per image of interactive work (ms), learnt from the trainer's replies: the
   * up-front charge.
   */
  private double msPerImage = 0.5;

  InteractiveRequests(ServerConfig config, CommandForwarder forwarder) {
    this.config = config;
    this.forwarder = forwarder;
  }

  /**
   * An interactive request goes to the trainer unless its answer is already known to be {@code
   * busy}: too many in flight for this client, the trainer's time used up, or this client's share.
   */
  void request(ClientSession s, Protocol.ModelRequest r, JobStream js) {
    if (s.interactive().inFlight() >= config.interactiveMaxInFlightPerClient()) {
      s.send(
          new ServerMessage.Error(
              r.id(),
              Codes.BUSY,
              config.interactiveMaxInFlightPerClient()
                  + " interactive requests are already in flight for you; wait for a reply, then retry",
              BUSY_RETRY_MS));
      return;
    }
    // The trainer said when it would have time again: until then the answer is known here, and
    // a flood
    // costs neither the event bus nor the trainer's node anything.
    long waitMs = js.trainerBusyForMs(System.nanoTime());
    if (waitMs > 0) {
      s.send(
          new ServerMessage.Error(
              r.id(),
              Codes.BUSY,
              "the trainer's time for interactive requests is used up; "
                  + "retry in "
                  + waitMs
                  + " ms",
              waitMs));
      return;
    }
    // One client gets a share of the trainer's interactive time, so one flooding socket cannot
    // take it all.
    long clientWaitMs =
        s.interactive().waitMs(config.interactiveClientMsPerSecond(), System.nanoTime());
    if (clientWaitMs > 0) {
      s.send(
          new ServerMessage.Error(
              r.id(),
              Codes.BUSY,
              "your share of the trainer's time ("
                  + config.interactiveClientMsPerSecond()
                  + " ms per second) is used up; retry in "
                  + clientWaitMs
                  + " ms",
              clientWaitMs));
      return;
    }
    // Charged up front at what it is likely to cost, so requests in flight count against the
    // share at
    // once (a burst cannot slip through before the first reply); settled at the trainer's own
    // figure.
    int images = images(r.op(), r.body());
    double estimate = images * msPerImage;
    s.interactive().sent(estimate);
    boolean[] settled = {false};
    forwarder
        .forward(
            s,
            r.id(),
            r.op(),
            new TrainerCommand.ModelRequest(js.id(), r.op(), r.body()),
            busy -> js.trainerBusy(busy.retryAfterMs(), System.nanoTime()),
            result -> {
              if (result.remove(TrainerCommand.ModelRequest.TRAINER_MS) instanceof Number ms) {
                s.interactive().charge(ms.doubleValue() - estimate);
                msPerImage = 0.8 * msPerImage + 0.2 * ms.doubleValue() / images;
                settled[0] = true;
              }
            })
        .onComplete(
            v -> {
              s.interactive().answered();
              if (!settled[0]) {
                s.interactive()
                    .charge(-estimate); // refused or failed: the trainer spent nothing on it
              }
            });
  }

  /**
   * The images a model request makes or reads (its cost grows with them): decode's points, encode's
   * images, interpolate's steps, attribute's two. Shapes are checked by the trainer; this only
   * counts.
   */
  static int images(String op, JsonObject body) {
    int n =
        switch (op) {
          case "decode" -> {
            Object points =
                body.getValue("z") != null ? body.getValue("z") : body.getValue("plane");
            yield points instanceof JsonArray a
                    && !a.isEmpty()
                    && a.getValue(0) instanceof JsonArray
                ? a.size()
                : 1;
          }
          case "encode" -> body.getValue("pixels") instanceof JsonArray a ? a.size() / 784 : 1;
          case "interpolate" -> body.getValue("steps") instanceof Number k ? k.intValue() : 8;
          default -> 2;
        };
    return Math.clamp(n, 1, 4096);
  }
}
