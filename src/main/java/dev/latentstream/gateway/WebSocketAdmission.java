package dev.latentstream.gateway;

import dev.latentstream.config.ServerConfig;
import dev.latentstream.stream.StreamHub;
import io.vertx.core.MultiMap;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * Who may open {@code /ws}, and the hand-over of an admitted socket to the hub. The handshake
 * checks the path (404), the Origin (403), the per-address connection limit (429; shared by the
 * instances through {@link Gateway}; behind a load balancer listed in {@code trustedProxies}, per
 * viewer address it forwards) and, with {@code watchRequiresToken}, the token (401), all before the
 * 101 goes out.
 *
 * <p>Threads: one per {@link HttpVerticle} instance, on its event loop.
 */
final class WebSocketAdmission {

  private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

  private final ServerConfig config;
  private final Gateway gateway;
  private final StreamHub hub;

  WebSocketAdmission(ServerConfig config, Gateway gateway, StreamHub hub) {
    this.config = config;
    this.gateway = gateway;
    this.hub = hub;
  }

  void handshake(ServerWebSocketHandshake h) {
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
   * An admitted socket goes to the hub; on a graceful shutdown it gets 1001 "server shutting down".
   */
  void attach(ServerWebSocket ws) {
    String ip = clientAddress(ws.remoteAddress().host(), ws.headers(), config.trustedProxies());
    ws.setWriteQueueMaxSize(config.writeQueueBytes());
    ws.shutdownHandler(v -> ws.close((short) 1001, "server shutting down"));
    hub.attach(ws, tokenIn(ws.query()), () -> gateway.disconnected(ip));
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
