package dev.latentstream.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Typed access to one JSON object of a job spec, with errors that name the source and carry the
 * dotted key path ({@code config/jobs/x.json: "noise.level" must be ...}). A missing or null key
 * gives the default.
 */
record SpecReader(JsonNode node, String source, String prefix) {

  SpecReader(JsonNode node, String source) {
    this(node, source, "");
  }

  private JsonNode get(String key) {
    JsonNode v = node == null ? null : node.get(key);
    return v == null || v.isNull() ? null : v;
  }

  private ConfigException bad(String key, String expected, JsonNode got) {
    return new ConfigException(
        source + ": \"" + prefix + key + "\" must be " + expected + ", got " + got);
  }

  /** {@code key}'s value read by {@code read} when {@code ok} holds, else an error naming it. */
  private <T> T value(
      String key, T dflt, Predicate<JsonNode> ok, String expected, Function<JsonNode, T> read) {
    JsonNode v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!ok.test(v)) {
      throw bad(key, expected, v);
    }
    return read.apply(v);
  }

  /** The object at {@code key}, which may hold only the keys {@code allowed}. */
  SpecReader object(String key, Set<String> allowed) {
    JsonNode v = get(key);
    if (v != null && !v.isObject()) {
      throw bad(key, "an object", v);
    }
    if (v != null) {
      for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!allowed.contains(k)) {
          throw new ConfigException(source + ": unknown key \"" + prefix + key + "." + k + "\"");
        }
      }
    }
    return new SpecReader(v, source, prefix + key + ".");
  }

  boolean bool(String key, boolean dflt) {
    return value(key, dflt, JsonNode::isBoolean, "true or false", JsonNode::asBoolean);
  }

  String string(String key, String dflt) {
    return value(key, dflt, JsonNode::isTextual, "a string", JsonNode::asText);
  }

  /**
   * The constant of {@code type} named by {@code key}, case-insensitively, after {@code toConstant}
   * (for example {@code conv-vae} to {@code conv_vae}).
   */
  <E extends Enum<E>> E enumValue(
      String key, Class<E> type, E dflt, Function<String, String> toConstant) {
    String allowed =
        Arrays.stream(type.getEnumConstants())
            .map(e -> e.name().replace('_', '-'))
            .collect(Collectors.joining(", "));
    String name = value(key, null, JsonNode::isTextual, "one of " + allowed, JsonNode::asText);
    if (name == null) {
      return dflt;
    }
    try {
      return Enum.valueOf(type, toConstant.apply(name.toLowerCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw bad(key, "one of " + allowed, get(key));
    }
  }

  int intIn(String key, int dflt, int min, int max) {
    return value(
        key,
        dflt,
        v -> v.isIntegralNumber() && v.canConvertToInt() && v.asInt() >= min && v.asInt() <= max,
        "a whole number from " + min + " to " + max,
        JsonNode::asInt);
  }

  long longValue(String key, long dflt) {
    return value(
        key,
        dflt,
        v -> v.isIntegralNumber() && v.canConvertToLong(),
        "a whole number",
        JsonNode::asLong);
  }

  double doubleIn(String key, double dflt, double min, double max) {
    return value(
        key,
        dflt,
        v ->
            v.isNumber()
                && Double.isFinite(v.asDouble())
                && v.asDouble() >= min
                && v.asDouble() <= max,
        "a number from " + min + " to " + max,
        JsonNode::asDouble);
  }

  List<Integer> positiveInts(String key, List<Integer> dflt) {
    JsonNode v = get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isArray() || v.isEmpty() || v.size() > JobConfigs.MAX_LAYERS) {
      throw bad(
          key, "an array of 1 to " + JobConfigs.MAX_LAYERS + " whole numbers from 1 to 65536", v);
    }
    List<Integer> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 1 || e.asInt() > 65536) {
        throw bad(key, "a non-empty array of whole numbers from 1 to 65536", v);
      }
      out.add(e.asInt());
    }
    return List.copyOf(out);
  }
}
