package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.SettingChange;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code web/api/asyncapi.yaml} and {@code web/api/protocol.md} describe the same messages: every
 * JSON example of the protocol document validates against the schema for its type and direction, no
 * message type is in one document and not the other, and the error codes and frame header agree.
 * Additions the AsyncAPI document lists under {@code x-pending-in-protocol-md} are exempt only
 * while protocol.md lacks them.
 */
class AsyncApiDocumentTest {

  enum Direction {
    CLIENT,
    SERVER
  }

  record Example(Direction direction, String type, JsonNode json, String text) {}

  /**
   * A message of the AsyncAPI document: its key under components/messages, direction, type and
   * schema.
   */
  record Message(String key, Direction direction, String type, JsonSchema schema) {}

  static final ObjectMapper JSON = new ObjectMapper();
  static JsonNode api;
  static String doc;
  static final List<Example> examples = new ArrayList<>();
  static final List<Message> messages = new ArrayList<>();
  static Set<String> pendingMessages;
  static Set<String> pendingCodes;

  @BeforeAll
  static void read() throws Exception {
    api = new ObjectMapper(new YAMLFactory()).readTree(Path.of("web/api/asyncapi.yaml").toFile());
    doc = Files.readString(Path.of("web/api/protocol.md"));
    pendingMessages = strings(api.at("/x-pending-in-protocol-md/messages"));
    pendingCodes = strings(api.at("/x-pending-in-protocol-md/errorCodes"));
    readMessages();
    readExamples();
  }

  /**
   * Directions come from the operations: the server receives requests and sends replies and the
   * rest.
   */
  private static void readMessages() {
    Map<String, Direction> directions = new LinkedHashMap<>();
    for (JsonNode op : iterable(api.path("operations"))) {
      Direction d =
          "receive".equals(op.path("action").asText()) ? Direction.CLIENT : Direction.SERVER;
      op.path("messages").forEach(m -> directions.put(messageKey(m), d));
      op.path("reply")
          .path("messages")
          .forEach(m -> directions.put(messageKey(m), Direction.SERVER));
    }
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);
    ObjectNode components = JSON.createObjectNode().set("schemas", api.at("/components/schemas"));
    api.path("components")
        .path("messages")
        .properties()
        .forEach(
            e -> {
              JsonNode payload = e.getValue().path("payload");
              if (!payload.has("$ref")) {
                return; // the binary frame: described by its header, not a JSON schema
              }
              String type = resolve(payload).at("/properties/type/const").asText(null);
              assertTrue(
                  type != null, e.getKey() + ": its payload schema needs properties.type.const");
              assertTrue(directions.containsKey(e.getKey()), e.getKey() + " is in no operation");
              // The schema's own $refs point into components/schemas, so validate from a root that
              // has them.
              ObjectNode root = JSON.createObjectNode().put("$ref", payload.get("$ref").asText());
              root.set("components", components);
              messages.add(
                  new Message(
                      e.getKey(), directions.get(e.getKey()), type, factory.getSchema(root)));
            });
  }

  /**
   * Every ```json block (one message per line, or one over several lines), plus the inline reply
   * examples that are whole JSON (others, like {@code {"type": "started", ..., "result": {job}}},
   * elide on purpose). Under "Client → server" the blocks are requests and the inline ones replies;
   * elsewhere all are server messages. The REST section has no WebSocket messages.
   */
  private static void readExamples() throws Exception {
    int client = doc.indexOf("\n## Client → server");
    int server = doc.indexOf("\n## Server → client");
    int rest = doc.indexOf("\n## REST");
    assertTrue(0 < client && client < server && server < rest, "protocol.md's sections moved");
    Matcher blocks =
        Pattern.compile("```json\n(.*?)```", Pattern.DOTALL).matcher(doc.substring(0, rest));
    while (blocks.find()) {
      Direction d =
          blocks.start() > client && blocks.start() < server ? Direction.CLIENT : Direction.SERVER;
      String block = blocks.group(1).trim();
      List<String> texts =
          block.lines().allMatch(l -> l.startsWith("{")) ? block.lines().toList() : List.of(block);
      for (String text : texts) {
        JsonNode json = JSON.readTree(text);
        examples.add(new Example(d, json.path("type").asText(), unelided(json), text));
      }
    }
    Matcher inline = Pattern.compile("`(\\{\"type\"[^`]*)`").matcher(doc.substring(0, rest));
    while (inline.find()) {
      try {
        JsonNode json = JSON.readTree(inline.group(1));
        examples.add(
            new Example(
                Direction.SERVER, json.path("type").asText(), unelided(json), inline.group(1)));
      } catch (com.fasterxml.jackson.core.JacksonException elided) {
        // an example with placeholders such as {job}: prose, not JSON
      }
    }
  }

  @Test
  void theDocumentIsAsyncApi3WithTheSocketAsItsChannel() {
    assertEquals("3.0.0", api.path("asyncapi").asText());
    assertEquals(String.valueOf(Protocol.VERSION), api.at("/info/version").asText());
    assertEquals("/ws", api.at("/channels/ws/address").asText());
    assertEquals("/ws", api.at("/servers/local/pathname").asText());
    List<String> broken = new ArrayList<>();
    refs(api, broken);
    assertEquals(List.of(), broken, "every $ref resolves inside the document");
  }

  @Test
  void everyJsonExampleOfTheProtocolDocumentMatchesTheSchemaOfItsType() {
    assertTrue(examples.size() >= 25, "the examples were found: " + examples.size());
    List<String> problems = new ArrayList<>();
    for (Example e : examples) {
      List<Message> candidates =
          messages.stream()
              .filter(m -> m.direction() == e.direction() && m.type().equals(e.type()))
              .toList();
      if (candidates.isEmpty()) {
        problems.add(
            "no schema for the " + e.direction() + " message '" + e.type() + "': " + e.text());
        continue;
      }
      List<String> errors =
          candidates.stream()
              .map(
                  m ->
                      m.key()
                          + ": "
                          + m.schema().validate(e.json()).stream()
                              .map(ValidationMessage::getMessage)
                              .toList())
              .toList();
      if (candidates.stream().allMatch(m -> !m.schema().validate(e.json()).isEmpty())) {
        problems.add(e.text() + "\n    " + String.join("\n    ", errors));
      }
    }
    assertEquals(List.of(), problems);
    Set<String> requests =
        examples.stream()
            .filter(e -> e.direction() == Direction.CLIENT)
            .map(Example::type)
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(
        new TreeSet<>(Protocol.TYPES),
        requests,
        "a validated example of every request the server parses");
  }

  @Test
  void everyMessageTypeIsInBothDocuments() {
    Set<String> schemaTypes =
        messages.stream().map(Message::type).collect(Collectors.toCollection(TreeSet::new));
    for (Example e : examples) {
      assertTrue(
          schemaTypes.contains(e.type()),
          "protocol.md has '" + e.type() + "'; asyncapi.yaml has no schema for it");
    }
    for (Message m : messages) {
      boolean documented =
          m.direction() == Direction.CLIENT
              ? examples.stream()
                  .anyMatch(e -> e.direction() == Direction.CLIENT && e.type().equals(m.type()))
              : doc.contains("\"type\": \"" + m.type() + "\"")
                  || doc.contains("`" + m.type() + "`");
      if (pendingMessages.contains(m.type())) {
        assertFalse(
            documented,
            "protocol.md now documents '"
                + m.type()
                + "': take it out of x-pending-in-protocol-md in asyncapi.yaml");
      } else {
        assertTrue(
            documented,
            "asyncapi.yaml has the "
                + m.direction()
                + " message '"
                + m.type()
                + "' ("
                + m.key()
                + ") but protocol.md does not document it");
      }
    }
    for (String type : pendingMessages) {
      assertTrue(
          schemaTypes.contains(type),
          "x-pending-in-protocol-md names '" + type + "', which has no schema");
    }
    assertTrue(
        api.at("/components/messages/frame/contentType")
            .asText()
            .equals("application/octet-stream"),
        "the binary frame is a message too");
  }

  @Test
  void theErrorCodesAreTheProtocolDocumentsTable() {
    String errors = doc.substring(doc.indexOf("\n## Errors"), doc.indexOf("\n## Client → server"));
    Set<String> documented = new TreeSet<>();
    Matcher rows = Pattern.compile("^\\| `([a-z_]+)` \\|", Pattern.MULTILINE).matcher(errors);
    while (rows.find()) {
      documented.add(rows.group(1));
    }
    assertTrue(documented.size() >= 10, "the table was found: " + documented);
    Set<String> inSchema = strings(api.at("/components/schemas/Error/properties/code/enum"));
    for (String code : pendingCodes) {
      assertFalse(
          documented.contains(code),
          "protocol.md now documents the error code '"
              + code
              + "': take it out of x-pending-in-protocol-md in asyncapi.yaml");
    }
    Set<String> expected = new TreeSet<>(documented);
    expected.addAll(pendingCodes);
    assertEquals(expected, inSchema);
  }

  @Test
  void theFrameHeaderIsTheProtocolDocumentsTable() {
    String headerTable = doc.substring(0, doc.indexOf(ProtocolDocumentTest.POINTS_TABLE));
    Matcher rows =
        Pattern.compile("^\\| (\\d+) \\| (u8|u16|u32|u64|…) \\| (.+?) \\|$", Pattern.MULTILINE)
            .matcher(headerTable);
    List<String> documented = new ArrayList<>();
    while (rows.find()) {
      documented.add(rows.group(1) + " " + rows.group(2) + " " + rows.group(3));
    }
    List<String> described = new ArrayList<>();
    api.at("/components/messages/frame/x-frame-header")
        .forEach(
            r ->
                described.add(
                    r.path("offset").asInt()
                        + " "
                        + r.path("type").asText()
                        + " "
                        + r.path("field").asText()));
    assertEquals(10, documented.size(), "nine header fields and the PNG in protocol.md");
    assertEquals(documented, described);
  }

  @Test
  void thePointsPayloadIsTheProtocolDocumentsTable() {
    List<String> documented =
        ProtocolDocumentTest.pointsRows(doc).stream().map(r -> String.join(" | ", r)).toList();
    List<String> described = new ArrayList<>();
    api.at("/components/messages/frame/x-points-payload")
        .forEach(
            r ->
                described.add(
                    r.path("offset").asText()
                        + " | "
                        + r.path("type").asText()
                        + " | "
                        + r.path("field").asText()));
    assertEquals(4, documented.size(), "range, count, coordinates and labels in protocol.md");
    assertEquals(documented, described);
  }

  @Test
  void theAsyncApiDocumentsOwnExamplesMatchTheirSchemas() {
    int checked = 0;
    for (Message m : messages) {
      for (JsonNode example : api.at("/components/messages/" + m.key() + "/examples")) {
        assertEquals(
            Set.of(), m.schema().validate(example.path("payload")), m.key() + ": " + example);
        checked++;
      }
    }
    assertTrue(checked >= 10, "examples checked: " + checked);
  }

  @Test
  void theSchemasRejectWhatTheServerRejects() {
    assertFalse(
        validate(Direction.CLIENT, "{\"type\": \"ping\", \"id\": 1, \"extra\": true}").isEmpty());
    assertFalse(
        validate(Direction.CLIENT, "{\"type\": \"subscribe\", \"job\": 1, \"streams\": []}")
            .isEmpty());
    assertFalse(
        validate(
                Direction.CLIENT, "{\"type\": \"subscribe\", \"job\": 1, \"streams\": [\"lossy\"]}")
            .isEmpty());
    assertFalse(
        validate(Direction.CLIENT, "{\"type\": \"subscribe\", \"job\": 1, \"maxFps\": 0}")
            .isEmpty());
    assertFalse(
        validate(Direction.CLIENT, "{\"type\": \"start\", \"preset\": \"a\", \"spec\": {}}")
            .isEmpty());
    assertFalse(
        validate(Direction.CLIENT, "{\"type\": \"decode\", \"job\": 1, \"z\": [0.1]}").isEmpty(),
        "no id");
    assertFalse(validate(Direction.CLIENT, "{\"type\": \"hello\", \"version\": 2}").isEmpty());
    assertFalse(
        validate(Direction.SERVER, "{\"type\": \"error\", \"code\": \"oops\", \"message\": \"m\"}")
            .isEmpty());
    assertEquals(
        Set.of(),
        validate(Direction.CLIENT, "{\"type\": \"subscribe\", \"job\": \"a\", \"maxFps\": 0.5}"));
  }

  /** What the server's own message records write validates too, so the schemas follow the code. */
  @Test
  void theMessagesTheServerWritesMatchTheirSchemas() {
    JsonObject job =
        new JsonObject()
            .put("id", "vae-1")
            .put("num", 1)
            .put("status", "running")
            .put("name", "vae")
            .put("model", "vae")
            .put("dataset", "fashion-mnist")
            .put("step", 10)
            .put("epoch", 0)
            .put("epochs", 3)
            .put("batchesPerEpoch", 469)
            .put("progress", 0.01)
            .put("device", "cpu")
            .put("updatedAt", 1795348490384L)
            .put("classes", new JsonArray().add("a"))
            .put("spec", new JsonObject().put("model", "vae"));
    Columns columns = new Columns();
    columns.add(1, 1, 1795348490384L, Map.of("recon", 549.6, "kl", 0.15, "loss", 549.8));
    columns.add(2, 1, -1, Map.of("recon", 532.5, "kl", 0.53, "loss", 533.0));
    List<ServerMessage> sent =
        List.of(
            new ServerMessage.Welcome(true, List.of(job)),
            new ServerMessage.Status(job),
            new ServerMessage.History(
                1,
                "vae-1",
                columns.toJson(),
                new JsonObject()
                    .put("epoch", new JsonArray().add(1))
                    .put("step", new JsonArray().add(469))
                    .put("loss", new JsonArray().add(262.4)),
                new JsonArray()),
            new ServerMessage.Loss(1, columns.toJson()),
            new ServerMessage.Event(
                new TrainerEvent.Epoch(
                    1, new EpochResult(1, 469, Map.of("loss", 284.8), 262.4, 2.3, 0.4))),
            new ServerMessage.Event(
                new TrainerEvent.Setting(1, new SettingChange(300, 1, "lr", 0.0005))),
            new ServerMessage.Plane(1, 938, new float[] {-3.1f, 3.4f, -2.9f, 3.0f}),
            new ServerMessage.Plane(
                1,
                938,
                new float[] {-3.1f, 3.4f, -2.9f, 3.0f},
                new dev.latentstream.wire.PlaneAxes(
                    new float[] {0.1f, -0.2f, 0.05f},
                    new double[] {0.6, 0.8, 0},
                    new double[] {-0.8, 0.6, 0})),
            new ServerMessage.Event(new TrainerEvent.Log(1, "fetching")),
            new ServerMessage.Event(new TrainerEvent.Deleted(2, "ae-2")),
            new ServerMessage.Error("7", Protocol.Codes.BAD_FIELD, "\"job\" must be a job id"),
            new ServerMessage.Error(null, Protocol.Codes.BAD_JSON, "not a JSON object"),
            new ServerMessage.Hello("1", true),
            new ServerMessage.Subscribed("2", job, List.of("loss", "recon"), 2.0),
            new ServerMessage.Unsubscribed("3", 1),
            new ServerMessage.Pong("14"),
            new ServerMessage.Result("paused", "6", job),
            new ServerMessage.Result(
                "deleted", "9", new JsonObject().put("id", "vae-1").put("deleted", true)),
            new ServerMessage.Result(
                "set",
                "8",
                new JsonObject().put("job", "vae-1").put("key", "lr").put("value", 0.0005)));
    for (ServerMessage m : sent) {
      String text = m.toJson().encode();
      assertEquals(Set.of(), validate(Direction.SERVER, text), text);
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  /** The errors of the best-matching schema for the message's type and direction (none: valid). */
  private static Set<ValidationMessage> validate(Direction d, String text) {
    try {
      JsonNode json = JSON.readTree(text);
      Set<ValidationMessage> best = null;
      for (Message m : messages) {
        if (m.direction() == d && m.type().equals(json.path("type").asText())) {
          Set<ValidationMessage> errors = m.schema().validate(json);
          if (best == null || errors.size() < best.size()) {
            best = errors;
          }
        }
      }
      if (best == null) {
        fail("no " + d + " schema for " + text);
      }
      return best;
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new AssertionError(text, e);
    }
  }

  /**
   * The document elides with placeholders: {@code "...": "..."} in an object, {@code "..."} or
   * {@code "... 784 values ..."} in an array. They stand for more of the same, so they are dropped.
   */
  private static JsonNode unelided(JsonNode n) {
    if (n instanceof ObjectNode o) {
      o.remove("...");
      o.properties().forEach(e -> unelided(e.getValue()));
    } else if (n instanceof ArrayNode a) {
      for (Iterator<JsonNode> it = a.iterator(); it.hasNext(); ) {
        JsonNode item = it.next();
        if (item.isTextual()
            && (item.asText().startsWith("...") || item.asText().startsWith("…"))) {
          it.remove();
        } else {
          unelided(item);
        }
      }
    }
    return n;
  }

  private static String messageKey(JsonNode channelMessageRef) {
    JsonNode channelMessage = resolve(channelMessageRef);
    String ref = channelMessage.path("$ref").asText();
    assertTrue(
        ref.startsWith("#/components/messages/"), "channel messages point at components: " + ref);
    return ref.substring("#/components/messages/".length());
  }

  private static JsonNode resolve(JsonNode ref) {
    String pointer = ref.path("$ref").asText();
    assertTrue(pointer.startsWith("#/"), "a local $ref: " + ref);
    JsonNode target = api.at(pointer.substring(1));
    assertFalse(target.isMissingNode(), "unresolved " + pointer);
    return target;
  }

  private static void refs(JsonNode n, List<String> broken) {
    if (n.isObject() && n.has("$ref")) {
      String pointer = n.get("$ref").asText();
      if (!pointer.startsWith("#/") || api.at(pointer.substring(1)).isMissingNode()) {
        broken.add(pointer);
      }
    }
    n.forEach(child -> refs(child, broken));
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> out = new TreeSet<>();
    array.forEach(s -> out.add(s.asText()));
    return out;
  }

  private static Iterable<JsonNode> iterable(JsonNode object) {
    List<JsonNode> values = new ArrayList<>();
    object.properties().forEach(e -> values.add(e.getValue()));
    return values;
  }
}
