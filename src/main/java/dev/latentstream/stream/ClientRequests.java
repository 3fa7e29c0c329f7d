package dev.latentstream.stream;

import dev.latentstream.bus.Busy;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.function.Consumer;

/**
 * What clients' messages do. Reassembles each message from its WebSocket frames within the size and
 * UTF-8 rules, parses it, turns away a client over its write bound, and answers: subscriptions from
 * the hub's job streams, commands and interactive requests by the trainer node that owns the job,
 * rationed per client. One per {@link StreamHub}, on its event loop.
 */
final class ClientRequests {

  /**
   * The retry hint sent with {@code busy} for the per-client limit (the client's own replies are
   * what it waits for), and for a trainer's refusal that carries no figure of its own: about one
   * request's time.
   */
  static final long BUSY_RETRY_MS = 200;

  /** {@code too_busy} replies a client over its bound gets before it is closed. */
  static final int TOO_BUSY_REPLIES_BEFORE_CLOSE = 16;

  private final StreamHub hub;
  private final ServerConfig config;

  /** Where commands go: the node that owns the job. */
  private final TrainerRoutes routes;

  private final StreamHub.Counters counters;

  /**
   * Trainer time per image of interactive work (ms), learnt from the trainer's replies: the
   * up-front charge.
   */
  private double msPerImage = 0.5;

  /** Strict: invalid UTF-8 closes the socket (1007) instead of becoming U+FFFD. Event loop only. */
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  ClientRequests(
      StreamHub hub, ServerConfig config, TrainerRoutes routes, StreamHub.Counters counters) {
    this.hub = hub;
    this.config = config;
    this.routes = routes;
    this.counters = counters;
  }

  /** The handler of one session's WebSocket frames. */
  Consumer<WebSocketFrame> frames(ClientSession s) {
    Inbound in = new Inbound();
    return f -> in.frame(s, f);
  }

  /**
   * One client's message being reassembled from its frames. A message over 4 × {@code
   * maxMessageBytes} closes the socket (1009) without being buffered further; one up to that is
   * read and answered {@code too_large} when over the limit; invalid UTF-8 in a text message closes
   * it (1007).
   */
  private final class Inbound {
    private Buffer message;
    private boolean text;

    void frame(ClientSession s, WebSocketFrame f) {
      if (!s.open()) {
        return;
      }
      if (f.isText() || f.isBinary()) {
        message = Buffer.buffer();
        text = f.isText();
      } else if (!f.isContinuation() || message == null) {
        return; // ping, pong and close are Vert.x's
      }
      message.appendBuffer(f.binaryData());
      if (message.length() > 4L * config.maxMessageBytes()) {
        message = null;
        hub.close(s, (short) 1009, "message too big");
        return;
      }
      if (!f.isFinal()) {
        return;
      }
      Buffer complete = message;
      message = null;
      if (!text) {
        s.send(
            new ServerMessage.Error(
                null, Codes.BAD_FIELD, "binary messages are not accepted; send JSON text"));
        return;
      }
      String decoded;
      try {
        decoded = utf8.reset().decode(ByteBuffer.wrap(complete.getBytes())).toString();
      } catch (CharacterCodingException e) {
        hub.close(s, (short) 1007, "invalid UTF-8");
        return;
      }
      onMessage(s, decoded, complete.length());
    }
  }

  private void onMessage(ClientSession s, String text, int bytes) {
    ClientMessage m;
    try {
      m = Protocol.parse(text, bytes, config.maxMessageBytes());
    } catch (ProtocolException e) {
      if (!tooBusy(s, e.id())) {
        s.send(new ServerMessage.Error(e.id(), e.code(), e.getMessage()));
      }
      return;
    }
    if (tooBusy(s, m.id())) {
      return;
    }
    try {
      handle(s, m);
    } catch (ProtocolException e) {
      s.send(new ServerMessage.Error(m.id(), e.code(), e.getMessage()));
    }
  }

  /**
   * A client over its bound is not served: each request gets {@code too_busy}, and one that keeps
   * asking is closed. So no client can make the server hold more for it than its bound and a few
   * small replies.
   */
  private boolean tooBusy(ClientSession s, String id) {
    if (!s.overBound()) {
      return false;
    }
    if (s.countTooBusyReply() > TOO_BUSY_REPLIES_BEFORE_CLOSE) {
      counters.tooBusyClosed++;
      hub.close(
          s,
          (short) 1008,
          "too busy: kept sending while over " + config.writeQueueBytes() + " bytes unread");
    } else {
      s.send(
          new ServerMessage.Error(
              id,
              Codes.TOO_BUSY,
              "over "
                  + config.writeQueueBytes()
                  + " bytes are waiting for "
                  + "you to read them; read before asking for more",
              config.slowClientTimeoutMs() / 4));
    }
    return true;
  }

  private void handle(ClientSession s, ClientMessage m) {
    switch (m) {
      case Protocol.Hello h -> hello(s, h);
      case Protocol.Subscribe sub -> subscribe(s, sub);
      case Protocol.Unsubscribe u -> unsubscribe(s, u);
      case Protocol.Start st -> {
        requireToken(s, st.id());
        forward(
            s,
            st.id(),
            "start",
            new TrainerCommand.Start(st.preset(), st.spec(), st.epochs(), st.sweep()));
      }
      case Protocol.Control c -> {
        requireToken(s, c.id());
        TrainerCommand.Action action = TrainerCommand.Action.fromWireName(c.action());
        forward(
            s, c.id(), c.action(), new TrainerCommand.Control(action, find(c.job(), c.id()).id()));
      }
      case Protocol.SetSetting set -> {
        requireToken(s, set.id());
        forward(
            s,
            set.id(),
            "set",
            new TrainerCommand.Set(find(set.job(), set.id()).id(), set.key(), set.value()));
      }
      case Protocol.ModelRequest r -> modelRequest(s, r);
      case Protocol.Ping p -> s.send(new ServerMessage.Pong(p.id()));
    }
  }

  /** A {@code hello}: a right token authorizes the session, a wrong one is refused. */
  private void hello(ClientSession s, Protocol.Hello h) {
    if (h.token() != null) {
      if (!config.tokenMatches(h.token())) {
        throw new ProtocolException(Codes.UNAUTHORIZED, "wrong token", h.id());
      }
      s.authorize();
    }
    s.send(new ServerMessage.Hello(h.id(), s.authorized()));
  }

  private void unsubscribe(ClientSession s, Protocol.Unsubscribe u) {
    JobStream js = find(u.job(), u.id());
    s.unsubscribe(js.num);
    s.send(new ServerMessage.Unsubscribed(u.id(), js.num));
  }

  /**
   * An interactive request goes to the trainer unless its answer is already known to be {@code
   * busy}: too many in flight for this client, the trainer's time used up, or this client's share.
   */
  private void modelRequest(ClientSession s, Protocol.ModelRequest r) {
    counters.modelRequests.merge(r.op(), 1L, Long::sum);
    if (config.watchRequiresToken()) {
      requireToken(s, r.id());
    }
    JobStream js = find(r.job(), r.id());
    if (s.interactiveInFlight() >= config.interactiveMaxInFlightPerClient()) {
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
    long waitMs =
        js.trainerBusyUntilNanos == 0
            ? 0
            : (js.trainerBusyUntilNanos - System.nanoTime()) / 1_000_000;
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
        s.interactiveWaitMs(config.interactiveClientMsPerSecond(), System.nanoTime());
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
    s.interactiveSent(estimate);
    boolean[] settled = {false};
    forward(
            s,
            r.id(),
            r.op(),
            new TrainerCommand.ModelRequest(js.id(), r.op(), r.body()),
            busy ->
                js.trainerBusyUntilNanos =
                    Math.max(
                        js.trainerBusyUntilNanos,
                        System.nanoTime() + busy.retryAfterMs() * 1_000_000),
            result -> {
              if (result.remove(TrainerCommand.ModelRequest.TRAINER_MS) instanceof Number ms) {
                s.chargeInteractive(ms.doubleValue() - estimate);
                msPerImage = 0.8 * msPerImage + 0.2 * ms.doubleValue() / images;
                settled[0] = true;
              }
            })
        .onComplete(
            v -> {
              s.interactiveAnswered();
              if (!settled[0]) {
                s.chargeInteractive(
                    -estimate); // refused or failed: the trainer spent nothing on it
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

  /**
   * A first subscribe gets the history (with {@code loss}) and the latest frame of each image
   * stream. A repeated one replaces the streams and rate: no second history, only the latest frames
   * of added streams.
   */
  private void subscribe(ClientSession s, Protocol.Subscribe req) {
    if (config.watchRequiresToken()) {
      requireToken(s, req.id());
    }
    JobStream js = find(req.job(), req.id());
    // The server's maxFramesPerSecond caps every client; a client's maxFps can only lower it.
    double fps =
        req.maxFps() == null
            ? config.maxFramesPerSecond()
            : Math.min(config.maxFramesPerSecond(), req.maxFps());
    EnumSet<Stream> streams = EnumSet.copyOf(req.streams());
    ClientSession.Subscribed change =
        s.subscribe(js.num, streams, (long) (1e9 / fps), req.latentPoints());
    ClientSession.Subscription sub = change.sub();
    EnumSet<Stream> added = change.added();
    boolean needsHistory = s.owesHistory(js.num);
    s.send(
        new ServerMessage.Subscribed(
            req.id(), js.status, streams.stream().map(Stream::wireName).toList(), fps));
    hub.loadPast(js)
        .onComplete(
            done -> {
              if (!s.open() || s.subscription(js.num) != sub) {
                return;
              }
              JobStream now = hub.job(js.num);
              if (now != js) {
                // A resumed run replaced the stream meanwhile: the history owed is the new one's.
                if (needsHistory && now != null && sub.historyPending()) {
                  hub.loadPast(now).onComplete(v -> hub.requestHistory(now));
                }
                return;
              }
              // A run whose past is still on disk (resumed, or joined mid-run by a late gateway)
              // sends its history at
              // its next step, once that past is read: an empty history now would only be replaced.
              if (needsHistory && sub.historyPending() && js.pastLoaded != null) {
                hub.requestHistory(js);
              }
              for (FrameKind kind : FrameKind.values()) {
                FrameMessage latest = js.latest.get(kind);
                if (latest != null
                    && added.contains(Stream.of(kind))
                    && sub.takes(Stream.of(kind))) {
                  s.offerFrame(latest);
                }
              }
              if (added.contains(Stream.diagnostics) && js.diagnostics != null) {
                s.send(js.diagnostics);
              }
              if (added.contains(Stream.status)) {
                js.warnings.forEach(s::send);
              }
            });
  }

  private Future<Void> forward(
      ClientSession s, String id, String requestType, TrainerCommand command) {
    return forward(s, id, requestType, command, busy -> {}, result -> {});
  }

  /**
   * Sends {@code command} to the trainer and its reply to the client; {@code onBusy} hears the
   * trainer's busy, {@code onResult} sees a result before the client does.
   */
  private Future<Void> forward(
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

  private JobStream find(Object job, String id) {
    JobStream js = job instanceof Integer n ? hub.job(n) : hub.byId(String.valueOf(job));
    if (js == null) {
      throw new ProtocolException(Codes.UNKNOWN_JOB, "unknown job '" + job + "'", id);
    }
    return js;
  }

  private void requireToken(ClientSession s, String id) {
    if (!s.authorized()) {
      throw new ProtocolException(
          Codes.UNAUTHORIZED,
          "this needs the token: send {\"type\":\"hello\",\"version\":1,"
              + "\"token\":\"...\"} first",
          id);
    }
  }
}
