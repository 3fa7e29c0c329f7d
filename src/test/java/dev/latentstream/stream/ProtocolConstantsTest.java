package dev.latentstream.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The protocol's constants, one place per language, against {@code web/api/protocol.md}'s tables:
 * the version, the frame header's fields and byte offsets, the frame kinds and formats, format 2's
 * offsets and the stream names. Java: {@link FrameHeader}, {@link FrameKind}, {@link
 * Protocol.Stream}. The page: {@code web/src/protocol.js} (its exported constants, read as text).
 * Python: {@code clients/python/latentstream/messages.py} (loaded by {@code /usr/bin/python3},
 * which prints them as JSON).
 */
class ProtocolConstantsTest {

  /** What protocol.md says. */
  record Doc(
      int version,
      Map<String, Integer> header,
      Map<String, String> headerTypes,
      int headerBytes,
      Map<Integer, String> kinds,
      Map<Integer, String> formats,
      Map<String, Integer> points,
      List<String> streams) {}

  static Doc doc;

  @BeforeAll
  static void readTheDocument() throws IOException {
    doc = parse(Files.readString(Path.of("web/api/protocol.md")));
  }

  static Doc parse(String md) {
    Matcher title =
        Pattern.compile("^# latentstream WebSocket protocol — version (\\d+)$", Pattern.MULTILINE)
            .matcher(md);
    assertTrue(title.find(), "protocol.md's title names the version");
    List<List<String>> headerRows = table(md, md.indexOf("| offset | type | field |"));
    List<List<String>> pointsRows =
        table(md, md.indexOf("| offset | type | field |", md.indexOf("Format 2,")));
    Map<String, Integer> header = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    Map<Integer, String> kinds = new LinkedHashMap<>();
    Map<Integer, String> formats = new LinkedHashMap<>();
    int version = -1;
    int headerBytes = -1;
    for (List<String> row : headerRows) {
      int offset = Integer.parseInt(row.get(0));
      String field = row.get(2);
      if (row.get(1).equals("…")) {
        headerBytes = offset;
        continue;
      }
      // "protocol version (1)", "kind: 1 recon, ...", "job number (`num` ...)": the name is before
      // any ':' or
      // '(', and the code calls two of them by their short names.
      String name = field.split("[:(]")[0].trim();
      name = Map.of("protocol version", "version", "job number", "job").getOrDefault(name, name);
      header.put(name, offset);
      types.put(name, row.get(1));
      switch (name) {
        case "version" -> version = Integer.parseInt(field.replaceAll(".*\\((\\d+)\\).*", "$1"));
        case "kind" -> pairs(field, "(\\d+) (\\w+)").forEach((code, kind) -> kinds.put(code, kind));
        case "format" ->
            pairs(field, "(\\d+) = (\\w+)")
                .forEach((code, f) -> formats.put(code, f.toLowerCase()));
        default -> {}
      }
    }
    Map<String, Integer> points = new LinkedHashMap<>();
    List<String> pointNames = List.of("range", "count", "points");
    for (int i = 0; i < pointsRows.size() - 1; i++) {
      points.put(pointNames.get(i), Integer.parseInt(pointsRows.get(i).get(0)));
    }
    Matcher streams =
        Pattern.compile("`streams` defaults to all of\\s+(.*?)\\(", Pattern.DOTALL).matcher(md);
    assertTrue(streams.find(), "protocol.md lists the streams of subscribe");
    List<String> streamNames =
        Pattern.compile("`(\\w+)`")
            .matcher(streams.group(1))
            .results()
            .map(r -> r.group(1))
            .toList();
    assertEquals(Integer.parseInt(title.group(1)), version, "the title's version and the header's");
    return new Doc(version, header, types, headerBytes, kinds, formats, points, streamNames);
  }

  /** The rows of the markdown table that starts at {@code from}, without its head and rule. */
  static List<List<String>> table(String md, int from) {
    assertTrue(from >= 0, "table not found");
    List<List<String>> rows = new ArrayList<>();
    for (String line :
        md.substring(from).lines().takeWhile(l -> l.startsWith("|")).skip(2).toList()) {
      rows.add(
          Arrays.stream(line.substring(1, line.length() - 1).split("\\|"))
              .map(String::trim)
              .toList());
    }
    return rows;
  }

  static Map<Integer, String> pairs(String text, String regex) {
    Map<Integer, String> out = new LinkedHashMap<>();
    Pattern.compile(regex)
        .matcher(text)
        .results()
        .forEach(r -> out.put(Integer.parseInt(r.group(1)), r.group(2)));
    return out;
  }

  @Test
  void theDocumentSaysWhatTheTestsBelowExpectOfIt() {
    assertEquals(
        List.of("version", "kind", "format", "reserved", "job", "step", "epoch", "width", "height"),
        List.copyOf(doc.header().keySet()));
    assertEquals(4, doc.kinds().size(), "the kind codes");
    assertEquals(Map.of(1, "png", 2, "points"), doc.formats());
    assertEquals(List.of("range", "count", "points"), List.copyOf(doc.points().keySet()));
    assertTrue(doc.streams().containsAll(doc.kinds().values()), "every frame kind is a stream");
  }

  @Test
  void javaFrameHeaderKindsAndStreamsMatchTheDocument() {
    assertEquals(doc.version(), FrameHeader.VERSION);
    assertEquals(doc.version(), Protocol.VERSION);
    Map<String, Integer> java = new LinkedHashMap<>();
    java.put("version", FrameHeader.VERSION_AT);
    java.put("kind", FrameHeader.KIND_AT);
    java.put("format", FrameHeader.FORMAT_AT);
    java.put("reserved", FrameHeader.RESERVED_AT);
    java.put("job", FrameHeader.JOB_AT);
    java.put("step", FrameHeader.STEP_AT);
    java.put("epoch", FrameHeader.EPOCH_AT);
    java.put("width", FrameHeader.WIDTH_AT);
    java.put("height", FrameHeader.HEIGHT_AT);
    assertEquals(doc.header(), java);
    assertEquals(doc.headerBytes(), FrameHeader.BYTES);
    assertEquals(
        doc.formats(), Map.of(FrameHeader.FORMAT_PNG, "png", FrameHeader.FORMAT_POINTS, "points"));
    assertEquals(
        doc.points(),
        Map.of(
            "range",
            FrameHeader.POINTS_RANGE_AT,
            "count",
            FrameHeader.POINTS_COUNT_AT,
            "points",
            FrameHeader.POINTS_XY_AT));
    Map<Integer, String> kinds = new LinkedHashMap<>();
    for (FrameKind k : FrameKind.values()) {
      kinds.put(k.code(), k.wireName());
    }
    assertEquals(doc.kinds(), kinds);
    assertEquals(
        doc.streams(),
        Arrays.stream(Protocol.Stream.values()).map(Protocol.Stream::wireName).toList());
  }

  @Test
  void thePagesProtocolModuleMatchesTheDocument() throws IOException {
    String js = Files.readString(Path.of("web/src/protocol.js"));
    assertEquals(doc.version(), Integer.parseInt(constant(js, "VERSION")));
    assertEquals(doc.headerBytes(), Integer.parseInt(constant(js, "FRAME_HEADER_BYTES")));
    Map<String, Integer> header = new LinkedHashMap<>(numbers(object(js, "FRAME_HEADER")));
    assertEquals(doc.headerBytes(), header.remove("payload"), "the payload follows the header");
    assertEquals(doc.header(), header);
    assertEquals(doc.kinds(), codes(object(js, "FRAME_KINDS")));
    assertEquals(doc.formats(), codes(object(js, "FRAME_FORMATS")));
    assertEquals(doc.points(), numbers(object(js, "POINTS")));
  }

  @Test
  void thePythonClientsMessagesModuleMatchesTheDocument() throws Exception {
    JsonObject py = python();
    assertEquals(doc.version(), py.getInteger("version"));
    assertEquals(doc.headerBytes(), py.getInteger("headerBytes"));
    Map<String, Integer> offsets = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (Object o : py.getJsonArray("header")) {
      JsonArray f = (JsonArray) o;
      offsets.put(f.getString(0), f.getInteger(1));
      types.put(f.getString(0), f.getString(2));
    }
    assertEquals(doc.header(), offsets);
    assertEquals(doc.headerTypes(), types, "the struct's field types");
    Map<Integer, String> kinds = new LinkedHashMap<>();
    py.getJsonObject("kinds")
        .forEach(e -> kinds.put(Integer.parseInt(e.getKey()), (String) e.getValue()));
    assertEquals(doc.kinds(), kinds);
    assertEquals(
        doc.formats(),
        Map.of(py.getInteger("formatPng"), "png", py.getInteger("formatPoints"), "points"));
    assertEquals(
        doc.points(),
        Map.of(
            "range",
            py.getInteger("pointsRange"),
            "count",
            py.getInteger("pointsCount"),
            "points",
            py.getInteger("pointsXy")));
    assertEquals(doc.streams(), py.getJsonArray("streams").getList());
  }

  /** An {@code export const NAME = value;} of protocol.js, as written. */
  static String constant(String js, String name) {
    Matcher m = Pattern.compile("export const " + name + " = ([^;]+);").matcher(js);
    assertTrue(m.find(), "protocol.js exports " + name);
    return m.group(1).trim();
  }

  /** The body of an {@code export const NAME = Object.freeze({ ... });} of protocol.js. */
  static String object(String js, String name) {
    Matcher m =
        Pattern.compile(
                "export const " + name + " = Object\\.freeze\\(\\{(.*?)\\}\\);", Pattern.DOTALL)
            .matcher(js);
    assertTrue(m.find(), "protocol.js exports " + name + " as a frozen object");
    return m.group(1).replaceAll("//[^\n]*", "");
  }

  static Map<String, Integer> numbers(String body) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Pattern.compile("(\\w+): (\\d+)")
        .matcher(body)
        .results()
        .forEach(r -> out.put(r.group(1), Integer.parseInt(r.group(2))));
    return out;
  }

  static Map<Integer, String> codes(String body) {
    return pairs(body, "(\\d+): '(\\w+)'");
  }

  /**
   * The Python module's constants, printed by Debian's python3 (which runs the client's own tests).
   */
  static JsonObject python() throws Exception {
    String script =
        """
        import importlib.util, json, struct, sys
        spec = importlib.util.spec_from_file_location("messages", sys.argv[1])
        m = importlib.util.module_from_spec(spec)
        sys.modules["messages"] = m
        spec.loader.exec_module(m)
        chars = m.FRAME_HEADER.format.lstrip("<>!=@")
        types = {"B": "u8", "H": "u16", "I": "u32", "Q": "u64"}
        header = [[name, struct.calcsize(">" + chars[:i]), types.get(chars[i], chars[i])]
                  for i, name in enumerate(m.FRAME_HEADER_FIELDS)]
        print(json.dumps({"version": m.PROTOCOL_VERSION, "header": header, "headerBytes": m.FRAME_HEADER.size,
            "kinds": m.FRAME_KINDS, "formatPng": m.FORMAT_PNG, "formatPoints": m.FORMAT_POINTS,
            "pointsRange": m.FRAME_HEADER.size, "pointsCount": m.FRAME_HEADER.size + struct.calcsize(">ffff"),
            "pointsXy": m.FRAME_HEADER.size + m.POINTS_HEADER.size, "streams": list(m.STREAMS)}))
        """;
    Process p =
        new ProcessBuilder(
                "/usr/bin/python3", "-c", script, "clients/python/latentstream/messages.py")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 did not finish");
    assertEquals(0, p.exitValue(), out);
    return new JsonObject(out.strip());
  }
}
