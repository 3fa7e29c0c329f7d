package dev.latentstream.gateway;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.ops.Ops;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side, on one event loop: the web page, the REST API ({@link JobsApi}) and {@code /ws}, whose
 * clients the {@link StreamHub} serves. The WebSocket handshake checks the path, the Origin, the
 * per-address connection limit and, with {@code watchRequiresToken}, the token.
 */
public final class HttpVerticle extends VerticleBase {

  static final int MAX_FRAME_BYTES = 65536;
  /** How long a graceful shutdown lets sockets answer their close frame. */
  static final int SHUTDOWN_GRACE_SECONDS = 2;
  private static final System.Logger LOG = System.getLogger(HttpVerticle.class.getName());

  /** uPlot's files inside its WebJar (org.webjars.npm:uplot, the version pom.xml names). */
  private static final String UPLOT_WEBJAR = "META-INF/resources/webjars/uplot/1.6.30/dist";

  private final ServerConfig config;
  private final ServerInfo info;
  private StreamHub hub;
  private HttpServer server;
  private final Map<String, Integer> connectionsPerIp = new HashMap<>();

  public HttpVerticle(ServerConfig config, ServerInfo info) {
    this.config = config;
    this.info = info;
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Stops accepting at once; open sockets get 1001 "server shutting down" (see attach), then are cut. */
  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.shutdown(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Future<?> start() {
    hub = new StreamHub(vertx, config);
    Router router = Router.router(vertx);
    new JobsApi(vertx, config, info, hub).mount(router);
    Ops.mount(router, config, hub::stats); // GET /metrics, /health, /ready
    mountPage(router);
    router.errorHandler(500, rc -> JobsApi.error(rc, 500, "internal error: " + rc.failure()));
    // Messages up to 4 × maxMessageBytes are read and answered with too_large when over the limit; anything
    // bigger closes the socket (1009) without being buffered. Frames stay at the customary 64 KiB: the
    // setting also splits what the server sends, and clients commonly refuse bigger frames.
    return hub.start().compose(v -> vertx.createHttpServer(new HttpServerOptions().setHost(config.host())
            .setPort(config.port()).setMaxWebSocketMessageSize(4 * config.maxMessageBytes())
            .setMaxWebSocketFrameSize(MAX_FRAME_BYTES))
        .webSocketHandshakeHandler(this::handshake).webSocketHandler(this::attach)
        .requestHandler(router).listen()).onSuccess(s -> server = s);
  }

  /**
   * The page: as the build packages it under webroot/ on the classpath, else (a build without the page,
   * e.g. from an IDE) straight from web/ on disk, with uPlot from its WebJar on the classpath.
   */
  private void mountPage(Router router) {
    if (HttpVerticle.class.getResource("/webroot/index.html") != null) {
      router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false));
      return;
    }
    Path web = Path.of("web").toAbsolutePath();
    if (!Files.isRegularFile(web.resolve("index.html"))) {
      LOG.log(System.Logger.Level.WARNING, "no web page: neither webroot/ on the classpath nor " + web);
      return;
    }
    LOG.log(System.Logger.Level.INFO, "serving the page from " + web);
    router.route("/vendor/*").handler(StaticHandler.create(UPLOT_WEBJAR).setCachingEnabled(false));
    router.route("/*").handler(StaticHandler.create(FileSystemAccess.ROOT, web.toString()).setCachingEnabled(false));
  }

  private void handshake(ServerWebSocketHandshake h) {
    if (!"/ws".equals(h.path())) {
      h.reject(404);
      return;
    }
    String origin = h.headers().get("Origin");
    String host = h.headers().get("Host");
    if (origin != null && !origin.equals("http://" + host) && !origin.equals("https://" + host)
        && !config.allowedOrigins().contains(origin)) {
      h.reject(403);
      return;
    }
    if (connectionsPerIp.getOrDefault(h.remoteAddress().host(), 0) >= config.maxConnectionsPerIp()) {
      h.reject(429);
      return;
    }
    if (config.watchRequiresToken() && !tokenIn(h.query())) {
      h.reject(401);
      return;
    }
    h.accept();
  }

  private void attach(ServerWebSocket ws) {
    String ip = ws.remoteAddress().host();
    connectionsPerIp.merge(ip, 1, Integer::sum);
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    ws.shutdownHandler(v -> ws.close((short) 1001, "server shutting down"));
    hub.attach(ws, tokenIn(ws.query()), () -> connectionsPerIp.merge(ip, -1, (a, b) -> a + b <= 0 ? null : a + b));
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
