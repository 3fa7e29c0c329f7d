package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.stream.Protocol.ClientMessage;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * One test per client message type: each parses into its record, and a malformed one fails with its
 * code.
 */
class ProtocolTest {

  static ClientMessage parse(String json) {
    return Protocol.parse(json, 65536);
  }

  static String code(String json) {
    return assertThrows(ProtocolException.class, () -> parse(json)).code();
  }

  @Test
  void hello() {
    Protocol.Hello h =
        assertInstanceOf(
            Protocol.Hello.class,
            parse("{\"type\":\"hello\",\"id\":1,\"version\":1,\"token\":\"t\"}"));
    assertEquals("t", h.token());
    assertEquals("1", h.id());
    assertEquals(Protocol.Codes.VERSION, code("{\"type\":\"hello\",\"version\":9}"));
  }

  @Test
  void subscribe() {
    Protocol.Subscribe s =
        assertInstanceOf(
            Protocol.Subscribe.class,
            parse("{\"type\":\"subscribe\",\"job\":3,\"streams\":[\"loss\",\"latent\"]}"));
    assertEquals(3, s.job());
    assertEquals(EnumSet.of(Protocol.Stream.loss, Protocol.Stream.latent), s.streams());
    assertEquals(
        EnumSet.allOf(Protocol.Stream.class),
        ((Protocol.Subscribe) parse("{\"type\":\"subscribe\",\"job\":\"a-1\"}")).streams());
    assertEquals(
        Protocol.Codes.BAD_FIELD, code("{\"type\":\"subscribe\",\"job\":1,\"streams\":\"loss\"}"));
  }

  @Test
  void unsubscribe() {
    assertEquals(
        "x",
        assertInstanceOf(
                Protocol.Unsubscribe.class, parse("{\"type\":\"unsubscribe\",\"job\":\"x\"}"))
            .job());
    assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":\"unsubscribe\"}"));
  }

  @Test
  void start() {
    Protocol.Start s =
        assertInstanceOf(
            Protocol.Start.class,
            parse("{\"type\":\"start\",\"preset\":\"vae-fashion\",\"epochs\":2}"));
    assertEquals("vae-fashion", s.preset());
    assertEquals(2, s.epochs());
    assertEquals(
        "vae",
        ((Protocol.Start) parse("{\"type\":\"start\",\"spec\":{\"model\":\"vae\"}}"))
            .spec()
            .getString("model"));
    assertEquals(
        Protocol.Codes.BAD_FIELD, code("{\"type\":\"start\",\"preset\":\"a\",\"spec\":{}}"));
    assertEquals(
        Protocol.Codes.BAD_FIELD, code("{\"type\":\"start\",\"preset\":\"a\",\"epochs\":0}"));
  }

  @Test
  void anEpochsOverOneHundredThousandIsRefusedNamingTheKeyAndTheSpecsBound() {
    assertEquals(
        100_000,
        ((Protocol.Start) parse("{\"type\":\"start\",\"preset\":\"a\",\"epochs\":100000}"))
            .epochs());
    for (String bad : new String[] {"100001", "2147483647", "1e12"}) {
      ProtocolException e =
          assertThrows(
              ProtocolException.class,
              () -> parse("{\"type\":\"start\",\"preset\":\"a\",\"epochs\":" + bad + "}"));
      assertEquals(Protocol.Codes.BAD_FIELD, e.code(), bad);
      assertTrue(
          e.getMessage().contains("\"epochs\"") && e.getMessage().contains("from 1 to 100000"),
          e.getMessage());
    }
  }

  @Test
  void controlMessages() {
    for (String action : new String[] {"pause", "resume", "stop", "delete"}) {
      Protocol.Control c =
          assertInstanceOf(
              Protocol.Control.class, parse("{\"type\":\"" + action + "\",\"job\":1}"));
      assertEquals(action, c.action());
      assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":\"" + action + "\",\"job\":1.5}"));
    }
  }

  @Test
  void set() {
    Protocol.SetSetting s =
        assertInstanceOf(
            Protocol.SetSetting.class,
            parse("{\"type\":\"set\",\"job\":1,\"key\":\"lr\",\"value\":0.0005}"));
    assertEquals(0.0005, s.value());
    assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":\"set\",\"job\":1,\"key\":\"lr\"}"));
  }

  @Test
  void modelRequests() {
    for (String op : new String[] {"decode", "interpolate", "attribute"}) {
      Protocol.ModelRequest r =
          assertInstanceOf(
              Protocol.ModelRequest.class,
              parse("{\"type\":\"" + op + "\",\"id\":\"r\",\"job\":1}"));
      assertEquals(op, r.op());
      assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":\"" + op + "\",\"job\":1}"));
    }
    assertInstanceOf(
        Protocol.ModelRequest.class,
        parse("{\"type\":\"encode\",\"id\":\"e\",\"job\":1,\"pixels\":[0]}"));
    assertEquals(
        Protocol.Codes.BAD_FIELD,
        code("{\"type\":\"encode\",\"id\":\"e\",\"job\":1,\"pixels\":\"x\"}"));
  }

  @Test
  void subscribeTakesAnOptionalFrameRate() {
    assertEquals(
        1.5,
        ((Protocol.Subscribe) parse("{\"type\":\"subscribe\",\"job\":1,\"maxFps\":1.5}")).maxFps());
    for (String bad : new String[] {"0", "-1", "\"2\"", "1e999"}) {
      assertEquals(
          Protocol.Codes.BAD_FIELD,
          code("{\"type\":\"subscribe\",\"job\":1,\"maxFps\":" + bad + "}"),
          bad);
    }
  }

  @Test
  void wholeNumbersAreExactAndInRangeNeverRoundedOrWrapped() {
    for (String bad :
        new String[] {"4294967301", "9223372036854775808", "1.9", "-0.9", "-1", "1e300", "\"3\""}) {
      assertEquals(
          Protocol.Codes.BAD_FIELD,
          code(
              "{\"type\":\"interpolate\",\"id\":\"r\",\"job\":1,\"from\":{\"index\":"
                  + bad
                  + "},\"to\":{\"index\":1}}"),
          "index " + bad);
      assertEquals(
          Protocol.Codes.BAD_FIELD,
          code("{\"type\":\"attribute\",\"id\":\"r\",\"job\":1,\"plus\":" + bad + "}"),
          "plus " + bad);
      if (!bad.equals("-1") && !bad.startsWith("\"")) {
        assertEquals(
            Protocol.Codes.BAD_FIELD,
            code("{\"type\":\"pause\",\"job\":" + bad + "}"),
            "job " + bad);
      }
      assertEquals(
          Protocol.Codes.BAD_FIELD,
          code("{\"type\":\"start\",\"preset\":\"a\",\"epochs\":" + bad + "}"),
          "epochs " + bad);
    }
    assertInstanceOf(
        Protocol.ModelRequest.class,
        parse(
            "{\"type\":\"interpolate\",\"id\":\"r\",\"job\":1,"
                + "\"from\":{\"index\":2147483647},\"to\":{\"index\":1.0},\"steps\":8}"));
    assertEquals(
        7,
        ((Protocol.Start) parse("{\"type\":\"start\",\"preset\":\"a\",\"epochs\":7.0}")).epochs());
  }

  @Test
  void theSizeLimitCountsUtf8Bytes() {
    String euros = "{\"type\":\"ping\",\"pad\":\"" + "€".repeat(65_043) + "\"}";
    assertEquals(65_043 * 3 + 24, Protocol.utf8Length(euros));
    assertEquals(
        Protocol.Codes.TOO_LARGE, assertThrows(ProtocolException.class, () -> parse(euros)).code());
    assertEquals(4, Protocol.utf8Length("😀"));
    assertEquals(2, Protocol.utf8Length("é"));
  }

  @Test
  void badJsonIsExplainedWithoutTheParsersInternals() {
    for (String text :
        new String[] {"{oops", "[1,2]", "\"x\"", "{\"type\":", "nul", "{\"a\":1}}"}) {
      ProtocolException e = assertThrows(ProtocolException.class, () -> parse(text));
      assertEquals(Protocol.Codes.BAD_JSON, e.code(), text);
      for (String internal :
          new String[] {
            "Jackson", "java.", "LinkedHashMap", "Source:", "Failed to decode", "code 1"
          }) {
        assertTrue(!e.getMessage().contains(internal), text + " → " + e.getMessage());
      }
    }
    assertEquals(
        "a message must be a JSON object like {\"type\": \"ping\"}, not an array",
        assertThrows(ProtocolException.class, () -> parse("[1]")).getMessage());
  }

  @Test
  void ping() {
    assertEquals(
        "7", assertInstanceOf(Protocol.Ping.class, parse("{\"type\":\"ping\",\"id\":7}")).id());
  }

  @Test
  void malformedUnknownAndOversizedMessagesFailLoudly() {
    assertEquals(Protocol.Codes.BAD_JSON, code("not json"));
    assertEquals(Protocol.Codes.UNKNOWN_TYPE, code("{\"type\":\"subscribee\",\"job\":1}"));
    assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":7}"));
    assertEquals(Protocol.Codes.BAD_FIELD, code("{\"type\":\"ping\",\"id\":{}}"));
    ProtocolException tooLarge =
        assertThrows(
            ProtocolException.class,
            () ->
                Protocol.parse(
                    "{\"type\":\"ping\",\"id\":5,\"pad\":\"" + "x".repeat(100) + "\"}", 50));
    assertEquals(Protocol.Codes.TOO_LARGE, tooLarge.code());
    assertEquals("5", tooLarge.id(), "the error still answers the request");
  }
}
