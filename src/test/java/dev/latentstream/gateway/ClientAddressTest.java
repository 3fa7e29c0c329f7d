package dev.latentstream.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.MultiMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which address a WebSocket counts against maxConnectionsPerIp, directly and behind a trusted
 * proxy.
 */
class ClientAddressTest {

  static MultiMap forwarded(String... values) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    for (String v : values) {
      h.add("X-Forwarded-For", v);
    }
    return h;
  }

  @Test
  void withoutTrustedProxiesTheForwardedHeaderIsIgnored() {
    assertEquals(
        "10.0.0.5", WebSocketAdmission.clientAddress("10.0.0.5", forwarded("1.2.3.4"), List.of()));
  }

  @Test
  void aPeerThatIsNotATrustedProxyCannotNameAnotherAddress() {
    assertEquals(
        "10.0.0.6",
        WebSocketAdmission.clientAddress("10.0.0.6", forwarded("1.2.3.4"), List.of("10.0.0.5")));
  }

  @Test
  void behindATrustedProxyTheAddressItAppendedCounts() {
    assertEquals(
        "1.2.3.4",
        WebSocketAdmission.clientAddress("10.0.0.5", forwarded("1.2.3.4"), List.of("10.0.0.5")));
  }

  @Test
  void whatTheClientWroteBeforeTheProxysEntryIsIgnored() {
    List<String> proxy = List.of("10.0.0.5");
    assertEquals(
        "1.2.3.4",
        WebSocketAdmission.clientAddress("10.0.0.5", forwarded("9.9.9.9, 1.2.3.4"), proxy));
    // HAProxy adds a header line of its own after the client's.
    assertEquals(
        "1.2.3.4",
        WebSocketAdmission.clientAddress("10.0.0.5", forwarded("9.9.9.9", "1.2.3.4"), proxy));
  }

  @Test
  void aTrustedProxyWithoutTheHeaderOrWithGarbageInItCountsAsItself() {
    List<String> proxy = List.of("10.0.0.5");
    assertEquals("10.0.0.5", WebSocketAdmission.clientAddress("10.0.0.5", forwarded(), proxy));
    assertEquals(
        "10.0.0.5", WebSocketAdmission.clientAddress("10.0.0.5", forwarded("unknown"), proxy));
    assertEquals(
        "10.0.0.5", WebSocketAdmission.clientAddress("10.0.0.5", forwarded("evil.example"), proxy));
  }

  @Test
  void ipv6SpellingsAreOneAddress() {
    List<String> proxy = List.of("0:0:0:0:0:0:0:1");
    assertEquals(
        "2001:db8:0:0:0:0:0:1",
        WebSocketAdmission.clientAddress("::1", forwarded("2001:db8::1"), proxy));
  }
}
