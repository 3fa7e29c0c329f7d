package dev.latentstream.gateway;

import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.ops.Ops;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side. Deployed as one instance per event loop, all listening on the same port; each
 * instance has its own {@link StreamHub}, fed by event-bus publish like a gateway node on a
 * cluster, so fan-out work is spread over every core and REST never waits behind another loop's
 * fan-out. Serves the web page, the REST API ({@link RestApi}) and {@code /ws}. The WebSocket
 * handshake checks the path, the Origin, the per-address connection limit (shared by the instances
 * through {@link Gateway}; behind a load balancer listed in {@code trustedProxies}, per viewer
 * address it forwards) and, with {@code watchRequiresToken}, the token.
 *
 * <p>permessage-deflate is off: frames are encoded once and shared, and deflating them again per
 * client on the event loop would undo that (see protocol.md, "Compression").
 */
public final class HttpVerticle extends VerticleBase {

  static final int MAX_FRAME_BYTES = 65536;

  /** How long a graceful shutdown lets sockets answer their close frame. */
  static final int SHUTDOWN_GRACE_SECONDS = 2;

  private static final System.Logger LOG = System.getLogger(HttpVerticle.class.getName());

  /** uPlot's files inside its WebJar (org.webjars.npm:uplot, the version pom.xml names). */
  private static final String UPLOT_WEBJAR = "META-INF/resources/webjars/uplot/1.6.30/dist";

  private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

  private final ServerConfig config;
  private final ServerInfo info;
  private final Gateway gateway;
  private StreamHub hub;
  private HttpServer server;

  public HttpVerticle(ServerConfig config, ServerInfo info, Gateway gateway) {
    this.config = config;
    this.info = info;
    this.gateway = gateway;
  }

  /**
   * Stops accepting at once; open sockets get 1001 "server shutting down" (see attach), then are
   * cut.
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
    hub = new StreamHub(vertx, config, routes);
    Router router = Router.router(vertx);
    gateway.addHub(context, hub::stats);
    new RestApi(vertx, config, info, hub, gateway, routes).mount(router);
    Ops.mount(router, config, hub::stats); // GET /metrics, /health, /ready
    mountPage(router);
    // Failures the router raises itself (a body over the limit, a bad body) get the API's error
    // shape and no
    // stack trace in the log; only a real fault (500) is logged, and its details stay in the log.
    router.errorHandler(400, rc -> Rest.error(rc, 400, "bad request"));
    router.errorHandler(
        413,
        rc ->
            Rest.error(
                rc,
                413,
                "the body is larger than "
                    + config.maxMessageBytes()
                    + " bytes (maxMessageBytes)"));
    router.errorHandler(
        500,
        rc -> {
          LOG.log(
              System.Logger.Level.ERROR,
              "unexpected failure on " + rc.request().method() + " " + rc.request().path(),
              rc.failure());
          Rest.error(rc, 500, "internal error; see the server log");
        });
    // Messages up to 4 × maxMessageBytes are read and answered with too_large when over the limit;
    // anything
    // bigger closes the socket (1009) without being buffered. A single frame may be as big as a
    // message,
    // so an oversized frame also gets 1009 rather than a dropped connection.
    return hub.start()
        .compose(
            v ->
                vertx
                    .createHttpServer(
                        new HttpServerOptions()
                            .setHost(config.host())
                            // Port 0 with several instances: a negative port makes them share one
                            // random port.
                            .setPort(config.port() == 0 ? -1 : config.port())
                            .setMaxWebSocketMessageSize(4 * config.maxMessageBytes())
                            .setMaxWebSocketFrameSize(
                                Math.max(MAX_FRAME_BYTES, 4 * config.maxMessageBytes()))
                            .setPerMessageWebSocketCompressionSupported(false)
                            .setPerFrameWebSocketCompressionSupported(false))
                    .webSocketHandshakeHandler(this::handshake)
                    .webSocketHandler(this::attach)
                    .requestHandler(router)
                    .listen())
        .onSuccess(
            s -> {
              server = s;
              gateway.listening(s.actualPort());
            });
  }

  /**
   * The page: as the build packages it under webroot/ on the classpath, else (a build without the
   * page, e.g. from an IDE) straight from web/ on disk, with uPlot from its WebJar on the
   * classpath.
   */
  private void mountPage(Router router) {
    if (HttpVerticle.class.getResource("/webroot/index.html") != null) {
      router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
      return;
    }
    Path web = Path.of("web").toAbsolutePath();
    if (!Files.isRegularFile(web.resolve("index.html"))) {
      LOG.log(
          System.Logger.Level.WARNING, "no web page: neither webroot/ on the classpath nor " + web);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "serving the page from " + web);
    router.route("/vendor/*").handler(StaticHandler.create(UPLOT_WEBJAR).setCachingEnabled(false));
    router
        .route("/*")
        .handler(
            StaticHandler.create(FileSystemAccess.ROOT, web.toString()).setCachingEnabled(false));
  }

  private void handshake(ServerWebSocketHandshake h) {
    if (!"/ws".equals(h.path())) {
      h.reject(404);
      return;
    }
    String origin = h.headers().get("Origin");
    if (origin != null
        && !sameOrigin(origin, h.headers().get("Host"))
        && !config.allowedOrigins().contains(origin)) {
      h.reject(403);
      return;
    }
    String ip = clientAddress(h.remoteAddress().host(), h.headers(), config.trustedProxies());
    if (!gateway.reserve(ip, config.maxConnectionsPerIp())) {
      h.reject(429);
      return;
    }
    if (config.watchRequiresToken() && !tokenIn(h.query())) {
      gateway.disconnected(ip);
      h.reject(401);
      return;
    }
    // The socket is counted from here; attach hands the count to the hub, which releases it on
    // close. A handshake that fails before that releases it now.
    h.accept().onFailure(e -> gateway.disconnected(ip));
  }

  /**
   * The page's own origin: the Host it was served from, over http or https. A server on loopback
   * answers to localhost, 127.0.0.1 and [::1] alike, so those names on the served port are one
   * origin.
   */
  boolean sameOrigin(String origin, String host) {
    if (host == null) {
      return false;
    }
    if (origin.equals("http://" + host) || origin.equals("https://" + host)) {
      return true;
    }
    int colon = host.lastIndexOf(':');
    String servedPort = colon > host.lastIndexOf(']') ? host.substring(colon) : "";
    return isLoopback(config.host())
        && isLoopback(hostOf(host))
        && LOOPBACK_NAMES.stream()
            .anyMatch(
                n ->
                    origin.equals("http://" + n + servedPort)
                        || origin.equals("https://" + n + servedPort));
  }

  private static String hostOf(String hostHeader) {
    int colon = hostHeader.lastIndexOf(':');
    return colon > hostHeader.lastIndexOf(']') ? hostHeader.substring(0, colon) : hostHeader;
  }

  private static boolean isLoopback(String host) {
    return LOOPBACK_NAMES.contains(host) || host.equals("::1");
  }

  private void attach(ServerWebSocket ws) {
    String ip = clientAddress(ws.remoteAddress().host(), ws.headers(), config.trustedProxies());
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    ws.shutdownHandler(v -> ws.close((short) 1001, "server shutting down"));
    hub.attach(ws, tokenIn(ws.query()), () -> gateway.disconnected(ip));
  }

  /**
   * The viewer's address for the per-address limit: the peer's, or, when the peer is one of {@code
   * trusted} (a load balancer such as HAProxy with {@code option forwardfor}), the address that
   * proxy appended last to {@code X-Forwarded-For}. Entries before it were written by the client
   * and prove nothing; an entry that is not an IP address leaves the peer's.
   */
  static String clientAddress(String peer, MultiMap headers, List<String> trusted) {
    if (trusted.isEmpty() || !trusted.contains(canonical(peer))) {
      return peer;
    }
    List<String> forwarded = headers.getAll("X-Forwarded-For");
    if (forwarded.isEmpty()) {
      return peer;
    }
    String last = forwarded.getLast();
    String client = canonical(last.substring(last.lastIndexOf(',') + 1).trim());
    return client == null ? peer : client;
  }

  /**
   * The address in one spelling (IPv6 compressed or not), or null when {@code ip} is not an IP
   * literal.
   */
  private static String canonical(String ip) {
    try {
      return InetAddress.ofLiteral(ip).getHostAddress();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private boolean tokenIn(String query) {
    if (query == null) {
      return false;
    }
    for (String part : query.split("&")) {
      if (part.startsWith("token=")) {
        return config.tokenMatches(URLDecoder.decode(part.substring(6), StandardCharsets.UTF_8));
      }
    }
    return false;
  }
}
