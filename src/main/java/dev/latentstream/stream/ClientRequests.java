package dev.latentstream.stream;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.Protocol.ClientMessage;
import dev.latentstream.stream.Protocol.Codes;
import dev.latentstream.stream.Protocol.Stream;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.http.WebSocketFrame;
import java.util.EnumSet;
import java.util.function.Consumer;

/**
 * What clients' messages do. Each message, reassembled from its frames ({@link InboundMessages}),
 * is parsed; a client over its write bound is turned away; the rest is answered: subscriptions from
 * the hub's job streams, commands by the trainer node that owns the job ({@link CommandForwarder}),
 * interactive requests rationed per client ({@link InteractiveRequests}).
 *
 * <p>Threads: one per {@link StreamHub}, on its event loop.
 */
final class ClientRequests {

  /** {@code too_busy} replies a client over its bound gets before it is closed. */
  static final int TOO_BUSY_REPLIES_BEFORE_CLOSE = 16;

  private final StreamHub hub;
  private final ServerConfig config;
  private final StreamCounters counters;
  private final CommandForwarder forwarder;
  private final InteractiveRequests interactive;

  ClientRequests(
      StreamHub hub, ServerConfig config, TrainerRoutes routes, StreamCounters counters) {
    this.hub = hub;
    this.config = config;
    this.counters = counters;
    this.forwarder = new CommandForwarder(routes);
    this.interactive = new InteractiveRequests(config, forwarder);
  }

  /** The handler of one session's WebSocket frames. */
  Consumer<WebSocketFrame> frames(ClientSession s) {
    InboundMessages in =
        new InboundMessages(
            s, hub, config.maxMessageBytes(), (text, bytes) -> onMessage(s, text, bytes));
    return in::frame;
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
        forwarder.forward(
            s,
            st.id(),
            "start",
            new TrainerCommand.Start(st.preset(), st.spec(), st.epochs(), st.sweep()));
      }
      case Protocol.Control c -> {
        requireToken(s, c.id());
        TrainerCommand.Action action = TrainerCommand.Action.fromWireName(c.action());
        forwarder.forward(
            s, c.id(), c.action(), new TrainerCommand.Control(action, find(c.job(), c.id()).id()));
      }
      case Protocol.SetSetting set -> {
        requireToken(s, set.id());
        forwarder.forward(
            s,
            set.id(),
            "set",
            new TrainerCommand.Set(find(set.job(), set.id()).id(), set.key(), set.value()));
      }
      case Protocol.ModelRequest r -> {
        counters.modelRequests.merge(r.op(), 1L, Long::sum);
        if (config.watchRequiresToken()) {
          requireToken(s, r.id());
        }
        interactive.request(s, r, find(r.job(), r.id()));
      }
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
    Subscription sub = change.sub();
    EnumSet<Stream> added = change.added();
    boolean needsHistory = s.owesHistory(js.num);
    s.send(
        new ServerMessage.Subscribed(
            req.id(), js.status(), streams.stream().map(Stream::wireName).toList(), fps));
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
              if (needsHistory && sub.historyPending() && js.pastLoaded() != null) {
                hub.requestHistory(js);
              }
              for (FrameKind kind : FrameKind.values()) {
                FrameMessage latest = js.history().latest(kind);
                if (latest != null
                    && added.contains(Stream.of(kind))
                    && sub.takes(Stream.of(kind))) {
                  s.offerFrame(latest);
                }
              }
              if (added.contains(Stream.diagnostics) && js.diagnostics() != null) {
                s.send(js.diagnostics());
              }
              if (added.contains(Stream.status)) {
                js.warnings().forEach(s::send);
              }
            });
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
