package dev.latentstream.gateway;

import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.ops.Ops;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side, as wiring. Deployed as one instance per event loop, all listening on the same
 * port; each instance has its own {@link StreamHub}, fed by event-bus publish like a gateway node
 * on a cluster, so fan-out work is spread over every core and REST never waits behind another
 * loop's fan-out. Serves the REST API ({@link RestApi}), the operations endpoints ({@link Ops}),
 * the page ({@link WebPage}) and {@code /ws}, whose handshake {@link WebSocketAdmission} checks.
 *
 * <p>permessage-deflate is off: frames are encoded once and shared, and deflating them again per
 * client on the event loop would undo that (see protocol.md, "Compression").
 *
 * <p>Threads: each instance, its hub and its handlers live on the instance's event loop.
 */
public final class HttpVerticle extends VerticleBase {

  static final int MAX_FRAME_BYTES = 65536;

  /** How long a graceful shutdown lets sockets answer their close frame. */
  static final int SHUTDOWN_GRACE_SECONDS = 2;

  private final ServerConfig config;
  private final ServerInfo info;
  private final Gateway gateway;
  private HttpServer server;

  public HttpVerticle(ServerConfig config, ServerInfo info, Gateway gateway) {
    this.config = config;
    this.info = info;
    this.gateway = gateway;
  }

  /**
   * Stops accepting at once; open sockets get 1001 "server shutting down" (see {@link
   * WebSocketAdmission#attach}), then are cut.
   */
  @Override
  public Future<?> stop() {
    return server == null
        ? Future.succeededFuture()
        : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Future<?> start() {
    TrainerRoutes routes = new TrainerRoutes(vertx);
    StreamHub hub = new StreamHub(vertx, config, routes);
    Router router = Router.router(vertx);
    gateway.addHub(context, hub::stats);
    new RestApi(vertx, config, info, hub, gateway, routes).mount(router);
    Ops.mount(router, config, hub::stats); // GET /metrics, /health, /ready
    WebPage.mount(router);
    Rest.errorReplies(router, config);
    WebSocketAdmission ws = new WebSocketAdmission(config, gateway, hub);
    return hub.start()
        .compose(
            v ->
                vertx
                    .createHttpServer(options())
                    .webSocketHandshakeHandler(ws::handshake)
                    .webSocketHandler(ws::attach)
                    .requestHandler(router)
                    .listen())
        .onSuccess(
            s -> {
              server = s;
              gateway.listening(s.actualPort());
            });
  }

  /**
   * Messages up to 4 × maxMessageBytes are read and answered with too_large when over the limit;
   * anything bigger closes the socket (1009) without being buffered. A single frame may be as big
   * as a message, so an oversized frame also gets 1009 rather than a dropped connection.
   */
  private HttpServerOptions options() {
    return new HttpServerOptions()
        .setHost(config.host())
        // Port 0 with several instances: a negative port makes them share one random port.
        .setPort(config.port() == 0 ? -1 : config.port())
        .setMaxWebSocketMessageSize(4 * config.maxMessageBytes())
        .setMaxWebSocketFrameSize(Math.max(MAX_FRAME_BYTES, 4 * config.maxMessageBytes()))
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false);
  }
}
