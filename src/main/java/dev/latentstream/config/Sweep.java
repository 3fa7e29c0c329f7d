package dev.latentstream.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sweep: one base spec and, per swept key, a list of values; its members are the Cartesian
 * product, each an ordinary job whose name says its values ({@code vae-fashion-beta4-latent2}). At
 * most {@link #MAX_RUNS} members; every error names the key. The grid is {@code "sweep": {"beta":
 * [0.5, 1, 2, 4], "latent": [2, 20]}} in a job file or a {@code start} message; the last key varies
 * fastest.
 */
public record Sweep(String name, Map<String, List<JsonNode>> grid, List<Member> members) {

  public static final int MAX_RUNS = 64;

  /** The key that holds the grid in a job file. */
  public static final String KEY = "sweep";

  /** One member: its value per swept key (in the grid's order) and its validated spec. */
  public record Member(Map<String, JsonNode> values, JobConfig spec) {
    /** {@code beta=4 latent=2}, for logs and tables. */
    public String label() {
      StringBuilder b = new StringBuilder();
      values.forEach(
          (k, v) -> b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(text(v)));
      return b.toString();
    }
  }

  /**
   * Expands {@code grid} over {@code base} (a spec tree, which must not hold a grid itself). {@code
   * source} prefixes every error, as {@link JobConfigs#fromJson} does.
   */
  public static Sweep expand(ObjectNode base, JsonNode grid, String source, String defaultName) {
    return expand(base, grid, source, defaultName, JobConfig.Engine.AUTO);
  }

  /**
   * As {@link #expand(ObjectNode, JsonNode, String, String)}, with {@code engine} where the spec
   * names none.
   */
  public static Sweep expand(
      ObjectNode base, JsonNode grid, String source, String defaultName, JobConfig.Engine engine) {
    if (grid == null || !grid.isObject() || grid.isEmpty()) {
      throw new ConfigException(
          source + ": \"sweep\" must be an object of key: [values], e.g. {\"beta\": [1, 4]}");
    }
    Map<String, List<JsonNode>> axes = new LinkedHashMap<>();
    long runs = 1;
    for (var it = grid.fields(); it.hasNext(); ) {
      var e = it.next();
      String key = e.getKey();
      if (key.equals("name") || key.equals(KEY) || key.equals("description")) {
        throw new ConfigException(source + ": \"sweep." + key + "\" cannot be swept");
      }
      if (!e.getValue().isArray() || e.getValue().isEmpty()) {
        throw new ConfigException(
            source + ": \"sweep." + key + "\" must be a non-empty array of values");
      }
      List<JsonNode> values = new ArrayList<>();
      e.getValue().forEach(values::add);
      if (values.stream().map(JsonNode::toString).distinct().count() != values.size()) {
        throw new ConfigException(source + ": \"sweep." + key + "\" lists a value twice");
      }
      axes.put(key, values);
      runs *= values.size();
      if (runs > MAX_RUNS) {
        throw new ConfigException(
            source
                + ": \"sweep\" makes more than "
                + MAX_RUNS
                + " runs (at \"sweep."
                + key
                + "\"); sweep fewer values");
      }
    }
    String baseName = base.path("name").isTextual() ? base.get("name").asText() : defaultName;
    List<Member> members = new ArrayList<>();
    int[] at = new int[axes.size()];
    List<String> keys = List.copyOf(axes.keySet());
    for (long n = 0; n < runs; n++) {
      ObjectNode spec = base.deepCopy();
      Map<String, JsonNode> values = new LinkedHashMap<>();
      StringBuilder name = new StringBuilder();
      for (int k = 0; k < keys.size(); k++) {
        JsonNode v = axes.get(keys.get(k)).get(at[k]);
        values.put(keys.get(k), v);
        spec.set(keys.get(k), v);
        name.append('-').append(keys.get(k)).append(text(v).replaceAll("[^A-Za-z0-9._-]", "_"));
      }
      String suffix = name.toString();
      String head =
          baseName.substring(0, Math.max(1, Math.min(baseName.length(), 64 - suffix.length())));
      spec.put(
          "name",
          (head + suffix).length() <= 64 ? head + suffix : (head + suffix).substring(0, 64));
      String where = source + " (sweep member " + new Member(values, null).label() + ")";
      members.add(new Member(values, JobConfigs.fromJson(spec, where, baseName, engine)));
      for (int k = keys.size() - 1; k >= 0; k--) {
        if (++at[k] < axes.get(keys.get(k)).size()) {
          break;
        }
        at[k] = 0;
      }
    }
    return new Sweep(baseName, axes, List.copyOf(members));
  }

  /** A job file with a {@code "sweep"} key, expanded; null when the file holds an ordinary job. */
  public static Sweep load(Path given) {
    Path file = Install.resolve(given);
    JsonNode root = JobConfigs.readJobFile(file);
    if (!(root instanceof ObjectNode o) || !o.has(KEY)) {
      return null;
    }
    JsonNode grid = o.remove(KEY);
    return expand(
        o, grid, file.toString(), file.getFileName().toString().replaceFirst("\\.json$", ""));
  }

  /** {@code beta=0.5,1,2} as a grid entry: numbers where they parse, else strings. */
  public static Map.Entry<String, ArrayNode> parseSet(String text) {
    int eq = text.indexOf('=');
    if (eq < 1 || eq == text.length() - 1) {
      throw new ConfigException("--set must be KEY=V1,V2,..., got \"" + text + "\"");
    }
    ArrayNode values = JobConfigs.JSON.createArrayNode();
    for (String v : text.substring(eq + 1).split(",")) {
      String s = v.trim();
      if (s.isEmpty()) {
        throw new ConfigException("--set " + text.substring(0, eq) + ": an empty value");
      }
      try {
        values.add(
            JobConfigs.JSON.readTree(s).isNumber()
                ? JobConfigs.JSON.readTree(s)
                : JobConfigs.JSON.getNodeFactory().textNode(s));
      } catch (JsonProcessingException e) {
        values.add(s);
      }
    }
    return Map.entry(text.substring(0, eq).trim(), values);
  }

  private static String text(JsonNode v) {
    return v.isTextual() ? v.asText() : v.toString();
  }
}
