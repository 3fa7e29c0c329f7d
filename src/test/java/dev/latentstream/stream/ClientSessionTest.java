package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.train.Frame;
import dev.latentstream.train.FrameKind;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientSessionTest {

  /** A socket that Vert.x has closed but whose close handler has not run yet: writing to it throws. */
  static ServerWebSocket closedSocket(List<String> calls) {
    return (ServerWebSocket) Proxy.newProxyInstance(ServerWebSocket.class.getClassLoader(),
        new Class<?>[] {ServerWebSocket.class}, (proxy, method, args) -> {
          calls.add(method.getName());
          return switch (method.getName()) {
            case "isClosed" -> true;
            case "drainHandler" -> proxy;
            case "writeTextMessage", "writeBinaryMessage" -> Future.failedFuture("closed");
            default -> throw new IllegalStateException("WebSocket is closed");
          };
        });
  }

  @Test
  void aSocketClosedBeforeItsCloseHandlerRanIsSkippedNotWrittenTo() {
    List<String> calls = new ArrayList<>();
    ClientSession s = new ClientSession(closedSocket(calls), false, 1 << 20, new StreamHub.Counters(), m -> null,
        () -> {});
    s.subscribe(1, java.util.EnumSet.allOf(Protocol.Stream.class), 0);
    s.send(Encoded.of("{\"type\":\"loss\"}"));
    s.offerFrame(FrameMessage.of(1, new Frame(FrameKind.RECON, 1, 0, 1, 1, new byte[] {1})));
    assertTrue(s.closed);
    assertEquals(List.of("isClosed"), calls, "nothing written, no write-queue check");
  }
}
