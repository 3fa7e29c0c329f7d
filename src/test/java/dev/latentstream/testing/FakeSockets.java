package dev.latentstream.testing;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Stand-ins for the {@link ServerWebSocket} a {@code dev.latentstream.stream.ClientSocket} writes
 * to, for unit tests of a session, its pacer or a hub without a server: proxies that answer the few
 * calls a {@code ClientSocket} makes and throw on any other.
 */
public final class FakeSockets {

  private FakeSockets() {}

  /**
   * A socket that Vert.x has closed but whose close handler has not run yet: writing to it throws.
   * Each call's method name goes to {@code calls}.
   */
  public static ServerWebSocket closed(List<String> calls) {
    return (ServerWebSocket)
        Proxy.newProxyInstance(
            ServerWebSocket.class.getClassLoader(),
            new Class<?>[] {ServerWebSocket.class},
            (proxy, method, args) -> {
              calls.add(method.getName());
              return switch (method.getName()) {
                case "isClosed" -> true;
                case "drainHandler" -> proxy;
                case "writeTextMessage", "writeBinaryMessage" -> Future.failedFuture("closed");
                default -> throw new IllegalStateException("WebSocket is closed");
              };
            });
  }

  /** An open socket whose writes complete at once; each binary message goes to {@code binary}. */
  public static ServerWebSocket openTo(Consumer<Buffer> binary) {
    return open(
        written -> {
          if (written instanceof Buffer b) {
            binary.accept(b);
          }
          return Future.succeededFuture();
        });
  }

  /**
   * An open socket that hands each write to {@code write}: a text message as its {@code String}, a
   * binary message as its {@code Buffer}, a fragment as its {@code WebSocketFrame}. The write
   * completes when the future {@code write} returns does.
   */
  public static ServerWebSocket open(Function<Object, Future<Void>> write) {
    return open(write, frames -> {});
  }

  /**
   * As {@link #open(Function)}, for a socket a hub attaches: the handler the hub sets for the
   * client's frames goes to {@code frames}, so a test can send as the client; the close, exception
   * and drain handlers are taken and never called.
   */
  @SuppressWarnings("unchecked")
  public static ServerWebSocket open(
      Function<Object, Future<Void>> write, Consumer<Handler<WebSocketFrame>> frames) {
    return (ServerWebSocket)
        Proxy.newProxyInstance(
            ServerWebSocket.class.getClassLoader(),
            new Class<?>[] {ServerWebSocket.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "isClosed" -> false;
                  case "writeTextMessage", "writeBinaryMessage", "writeFrame" ->
                      write.apply(args[0]);
                  case "frameHandler" -> {
                    frames.accept((Handler<WebSocketFrame>) args[0]);
                    yield proxy;
                  }
                  case "closeHandler", "exceptionHandler", "drainHandler" -> proxy;
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }
}
