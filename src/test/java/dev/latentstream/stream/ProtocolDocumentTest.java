package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import dev.latentstream.wire.SettingChange;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code web/api/protocol.md} and the code say the same thing: version, messages, fields, codes,
 * frame header.
 */
class ProtocolDocumentTest {

  static String doc;

  /** Every line of every ```json block. */
  static List<JsonObject> examples = new ArrayList<>();

  @BeforeAll
  static void read() throws Exception {
    doc = Files.readString(Path.of("web/api/protocol.md"));
    Matcher blocks = Pattern.compile("```json\n(.*?)```", Pattern.DOTALL).matcher(doc);
    while (blocks.find()) {
      String block = blocks.group(1).trim();
      // One message per line, or one message over several lines.
      if (block.lines().allMatch(l -> l.startsWith("{"))) {
        block.lines().forEach(l -> examples.add(new JsonObject(l)));
      } else {
        examples.add(new JsonObject(block));
      }
    }
  }

  static List<JsonObject> examplesOf(String type) {
    return examples.stream().filter(e -> type.equals(e.getString("type"))).toList();
  }

  @Test
  void theTitleCarriesTheVersion() {
    assertTrue(
        doc.startsWith("# latentstream WebSocket protocol — version " + Protocol.VERSION + "\n"));
  }

  @Test
  void everyClientMessageTypeHasAnExampleThatParses() {
    for (String type : Protocol.TYPES) {
      List<JsonObject> found =
          examplesOf(type).stream().filter(e -> !e.containsKey("result")).toList();
      assertFalse(found.isEmpty(), "no example of " + type);
      found.forEach(e -> Protocol.parse(e.encode(), 65536));
    }
  }

  /** A sample of every message the server sends unasked, to compare with the document's example. */
  static final List<ServerMessage> UNSOLICITED =
      List.of(
          new ServerMessage.Welcome(false, List.of()),
          new ServerMessage.Status(new JsonObject()),
          new ServerMessage.History(1, "a", new JsonObject(), new JsonObject(), new JsonArray()),
          new ServerMessage.Loss(1, new JsonObject()),
          new ServerMessage.Event(
              new TrainerEvent.Epoch(
                  1, new EpochResult(1, 16, Map.of("loss", 210.0), 200.0, 1.5, 0.2))),
          new ServerMessage.Event(
              new TrainerEvent.Setting(1, new SettingChange(16, 1, "lr", 0.001))),
          new ServerMessage.Plane(
              1,
              16,
              new float[4],
              new dev.latentstream.wire.PlaneAxes(
                  new float[3], new double[] {1, 0, 0}, new double[] {0, 1, 0})),
          new ServerMessage.Event(new TrainerEvent.Log(1, "hello")),
          new ServerMessage.Event(new TrainerEvent.Deleted(1, "a")),
          new ServerMessage.Event(
              new TrainerEvent.Diagnostics(
                  1,
                  new dev.latentstream.diagnostics.Diagnostics(
                      16, 1, "kl", new double[2], 1, 1, 0.9))),
          new ServerMessage.Event(
              new TrainerEvent.Warning(
                  1,
                  new dev.latentstream.diagnostics.Warning(
                      16, 1, "posterior_collapse", "m", "beta"))),
          new ServerMessage.Error("1", Protocol.Codes.BAD_FIELD, "message"));

  @Test
  void everyUnsolicitedServerMessageHasAnExampleWithTheFieldsTheServerSends() {
    for (ServerMessage m : UNSOLICITED) {
      List<JsonObject> found = examplesOf(m.type());
      assertEquals(1, found.size(), "one example of " + m.type());
      assertEquals(m.toJson().fieldNames(), found.getFirst().fieldNames(), m.type());
    }
  }

  @Test
  void everyServerMessageTypeIsDocumented() {
    Set<String> unsolicited =
        UNSOLICITED.stream().map(ServerMessage::type).collect(Collectors.toSet());
    List<String> types = new java.util.ArrayList<>();
    for (Class<?> c : ServerMessage.class.getPermittedSubclasses()) {
      if (c != ServerMessage.Result.class && c != ServerMessage.Event.class) {
        types.add(
            Character.toLowerCase(c.getSimpleName().charAt(0)) + c.getSimpleName().substring(1));
      }
    }
    // Event carries the trainer events viewers get as they are: each of those kinds is a type of
    // its own.
    for (Class<?> c : TrainerEvent.class.getPermittedSubclasses()) {
      if (c != TrainerEvent.Status.class && c != TrainerEvent.Step.class) {
        types.add(
            Character.toLowerCase(c.getSimpleName().charAt(0)) + c.getSimpleName().substring(1));
      }
    }
    for (String type : types) {
      assertTrue(doc.contains("\"type\": \"" + type + "\""), "no example of " + type);
      if (!List.of("hello", "subscribed", "unsubscribed", "pong").contains(type)) {
        assertTrue(unsolicited.contains(type), type + " needs a sample in UNSOLICITED");
      }
    }
    for (String type : ServerMessage.RESULT_TYPES.values()) {
      assertTrue(
          doc.contains("`" + type + "`") || doc.contains("\"type\": \"" + type + "\""),
          "reply " + type);
    }
  }

  @Test
  void everyErrorCodeIsInTheTable() throws Exception {
    for (Field f : Protocol.Codes.class.getFields()) {
      String code = (String) f.get(null);
      assertTrue(doc.contains("| `" + code + "` |"), "error code " + code);
    }
  }

  /** The sentence that opens the points table in protocol.md; the header table comes before it. */
  static final String POINTS_TABLE = "Format 2, a latent frame as points";

  /** The rows (offset, type, field) of protocol.md's format-2 table. */
  static List<List<String>> pointsRows(String doc) {
    String rest = doc.substring(doc.indexOf(POINTS_TABLE));
    String table = rest.substring(rest.indexOf("\n|"), rest.indexOf("\n\n", rest.indexOf("\n|")));
    Matcher rows =
        Pattern.compile("^\\| ([^|]+?) \\| ([^|]+?) \\| (.+?) \\|$", Pattern.MULTILINE)
            .matcher(table);
    List<List<String>> out = new java.util.ArrayList<>();
    while (rows.find()) {
      if (!rows.group(1).equals("offset") && !rows.group(1).startsWith("---")) {
        out.add(List.of(rows.group(1), rows.group(2), rows.group(3)));
      }
    }
    return out;
  }

  @Test
  void thePointsTableMatchesTheBytes() {
    float[] range = {-2f, 2f, -1f, 3f};
    Frame f =
        new Frame(
            FrameKind.LATENT,
            9,
            1,
            662,
            512,
            new byte[] {1},
            range,
            new dev.latentstream.wire.ScatterPoints(
                2, new float[] {-2f, 3f, 2f, -1f}, new byte[] {7, 2}));
    Buffer b = FrameMessage.of(5, f).pointsFrame();
    assertEquals(FrameHeader.FORMAT_POINTS, b.getUnsignedByte(2), "format 2 in the header");
    int count = 2;
    List<List<String>> rows = pointsRows(doc);
    assertEquals(
        List.of("24", "40", "44", "44 + 4·count"), rows.stream().map(r -> r.get(0)).toList());
    assertEquals(
        List.of("4 × f32", "u32", "count × (u16, u16)", "count × u8"),
        rows.stream().map(r -> r.get(1)).toList());
    for (int i = 0; i < 4; i++) {
      assertEquals(range[i], b.getFloat(24 + 4 * i), "range " + i);
    }
    assertEquals(count, b.getInt(40));
    assertEquals(
        List.of(0, 65535, 65535, 0),
        List.of(
            b.getUnsignedShort(44),
            b.getUnsignedShort(46),
            b.getUnsignedShort(48),
            b.getUnsignedShort(50)),
        "x from the left, y upwards");
    assertEquals(7, b.getByte(44 + 4 * count));
    assertEquals(2, b.getByte(44 + 4 * count + 1));
    assertEquals(44 + 5 * count, b.length(), "nothing after the labels");
  }

  @Test
  void theFrameHeaderTableMatchesTheBytes() {
    Matcher rows =
        Pattern.compile("^\\| (\\d+) \\| (u8|u16|u32|u64|…) \\| (.+?) \\|$", Pattern.MULTILINE)
            .matcher(doc.substring(0, doc.indexOf(POINTS_TABLE)));
    Frame f = new Frame(FrameKind.MANIFOLD, 123_456_789_012L, 7, 300, 280, new byte[] {42});
    Buffer b = FrameMessage.of(5, f).wsFrame();
    int next = 0;
    int seen = 0;
    while (rows.find()) {
      seen++;
      int offset = Integer.parseInt(rows.group(1));
      assertEquals(next, offset, "fields follow each other");
      String field = rows.group(3);
      long value =
          switch (rows.group(2)) {
            case "u8" -> b.getUnsignedByte(offset);
            case "u16" -> b.getUnsignedShort(offset);
            case "u32" -> b.getUnsignedInt(offset);
            case "u64" -> b.getLong(offset);
            default -> {
              assertEquals(FrameHeader.BYTES, offset, "the PNG follows the header");
              assertEquals(42, b.getByte(offset));
              yield -1;
            }
          };
      next =
          offset
              + switch (rows.group(2)) {
                case "u8" -> 1;
                case "u16" -> 2;
                case "u32" -> 4;
                default -> 8;
              };
      Map<String, Long> expected =
          Map.of(
              "protocol version",
              (long) FrameHeader.VERSION,
              "kind",
              4L,
              "format",
              (long) FrameHeader.FORMAT_PNG,
              "reserved",
              0L,
              "job",
              5L,
              "step",
              123_456_789_012L,
              "epoch",
              7L,
              "width",
              300L,
              "height",
              280L);
      if (value >= 0) {
        String name =
            expected.keySet().stream()
                .filter(field::startsWith)
                .findFirst()
                .orElseThrow(() -> new AssertionError("unknown header field: " + field));
        assertEquals(expected.get(name), value, field);
      }
    }
    assertEquals(10, seen, "nine header fields and the PNG");
    assertTrue(doc.contains("a " + FrameHeader.BYTES + "-byte big-endian header"));
    assertTrue(
        Arrays.stream(FrameKind.values())
            .allMatch(k -> doc.contains(k.code() + " " + k.wireName())),
        "the kind codes");
  }
}
