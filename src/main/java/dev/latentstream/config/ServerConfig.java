package dev.latentstream.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The server's settings, validated in one place. Sources, later ones winning: {@code config/server.json},
 * a file given with {@code --config}, environment variables {@code LATENTSTREAM_<KEY>} (the key in upper
 * snake case, e.g. {@code LATENTSTREAM_PORT}, {@code LATENTSTREAM_TOKEN}), then command-line options.
 * Every error names the key. See the README for units and defaults.
 */
public record ServerConfig(
    String host,
    int port,
    Path runsDir,
    Path dataDir,
    Path jobsDir,
    String defaultJob,
    String token,
    boolean watchRequiresToken,
    List<String> allowedOrigins,
    int maxConcurrentJobs,
    int queueLimit,
    int maxMessageBytes,
    int maxConnectionsPerIp,
    long slowClientTimeoutMs,
    int writeQueueBytes,
    long lossBatchMs,
    int frameHistory,
    boolean resumeInterrupted) {

  private static final Map<String, Object> DEFAULTS = Map.ofEntries(
      Map.entry("host", "127.0.0.1"), Map.entry("port", 8080), Map.entry("runsDir", "runs"),
      Map.entry("jobsDir", "config/jobs"), Map.entry("defaultJob", "vae-fashion"),
      Map.entry("watchRequiresToken", false), Map.entry("allowedOrigins", new JsonArray()),
      Map.entry("maxConcurrentJobs", 1), Map.entry("queueLimit", 8), Map.entry("maxMessageBytes", 65536),
      Map.entry("maxConnectionsPerIp", 32), Map.entry("slowClientTimeoutMs", 10000),
      Map.entry("writeQueueBytes", 4 * 1024 * 1024), Map.entry("lossBatchMs", 50), Map.entry("frameHistory", 300),
      Map.entry("resumeInterrupted", true));

  static final Set<String> KEYS = Set.of("host", "port", "runsDir", "dataDir", "jobsDir", "defaultJob", "token",
      "watchRequiresToken", "allowedOrigins", "maxConcurrentJobs", "queueLimit", "maxMessageBytes",
      "maxConnectionsPerIp", "slowClientTimeoutMs", "writeQueueBytes", "lossBatchMs", "frameHistory",
      "resumeInterrupted");

  /** This config with {@code token} set (e.g. a generated one). */
  public ServerConfig withToken(String token) {
    return new ServerConfig(host, port, runsDir, dataDir, jobsDir, defaultJob, token, watchRequiresToken, allowedOrigins,
        maxConcurrentJobs, queueLimit, maxMessageBytes, maxConnectionsPerIp, slowClientTimeoutMs, writeQueueBytes,
        lossBatchMs, frameHistory, resumeInterrupted);
  }

  /** Whether {@code given} is the control token, compared in constant time. */
  public boolean tokenMatches(String given) {
    return token != null && given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code LATENTSTREAM_MAX_CONCURRENT_JOBS} → {@code maxConcurrentJobs}. */
  public static String envName(String key) {
    return "LATENTSTREAM_" + key.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  /** Overlays {@code LATENTSTREAM_*} variables onto {@code json}, converting to the key's JSON type. */
  public static JsonObject withEnvironment(JsonObject json, Map<String, String> env) {
    JsonObject out = json.copy();
    for (String key : KEYS) {
      String v = env.get(envName(key));
      if (v == null) {
        continue;
      }
      Object dflt = DEFAULTS.get(key);
      if (dflt instanceof Integer) {
        try {
          out.put(key, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
          throw new ConfigException(envName(key) + ": \"" + key + "\" must be a whole number, got \"" + v + "\"");
        }
      } else if (dflt instanceof Boolean) {
        if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
          throw new ConfigException(envName(key) + ": \"" + key + "\" must be true or false, got \"" + v + "\"");
        }
        out.put(key, Boolean.parseBoolean(v));
      } else if (dflt instanceof JsonArray) {
        out.put(key, new JsonArray(List.of(v.split(",")).stream().map(String::trim).filter(s -> !s.isEmpty()).toList()));
      } else {
        out.put(key, v);
      }
    }
    return out;
  }

  public static ServerConfig fromJson(JsonObject json, String source) {
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw new ConfigException(source + ": unknown key \"" + key + "\" (known keys: " + KEYS.stream().sorted().toList() + ")");
      }
    }
    String host = string(json, "host", source, false);
    int port = integer(json, "port", 0, 65535, source);
    String dataDir = string(json, "dataDir", source, true);
    String token = string(json, "token", source, true);
    if (token != null && token.length() < 8) {
      throw new ConfigException(source + ": \"token\" must be at least 8 characters");
    }
    Object origins = json.getValue("allowedOrigins", DEFAULTS.get("allowedOrigins"));
    if (!(origins instanceof JsonArray arr) || !arr.stream().allMatch(o -> o instanceof String)) {
      throw new ConfigException(source + ": \"allowedOrigins\" must be an array of origins like \"http://host:port\"");
    }
    List<String> allowed = new ArrayList<>();
    for (Object o : arr) {
      String s = ((String) o).replaceAll("/+$", "");
      if (!s.matches("https?://[^/\\s]+")) {
        throw new ConfigException(source + ": \"allowedOrigins\" entry \"" + o + "\" is not an origin like http://host:port");
      }
      allowed.add(s);
    }
    Object watch = json.getValue("watchRequiresToken", false);
    if (!(watch instanceof Boolean)) {
      throw new ConfigException(source + ": \"watchRequiresToken\" must be true or false, got " + watch);
    }
    Object resume = json.getValue("resumeInterrupted", true);
    if (!(resume instanceof Boolean)) {
      throw new ConfigException(source + ": \"resumeInterrupted\" must be true or false, got " + resume);
    }
    return new ServerConfig(host, port, Path.of(string(json, "runsDir", source, false)),
        dataDir == null ? null : Path.of(dataDir), Path.of(string(json, "jobsDir", source, false)),
        string(json, "defaultJob", source, false), token, (Boolean) watch, List.copyOf(allowed),
        integer(json, "maxConcurrentJobs", 1, 64, source), integer(json, "queueLimit", 0, 10_000, source),
        integer(json, "maxMessageBytes", 256, 16 << 20, source), integer(json, "maxConnectionsPerIp", 1, 100_000, source),
        integer(json, "slowClientTimeoutMs", 100, 3_600_000, source),
        integer(json, "writeQueueBytes", 4096, 1 << 30, source), integer(json, "lossBatchMs", 10, 10_000, source),
        integer(json, "frameHistory", 1, 100_000, source), (Boolean) resume);
  }

  private static String string(JsonObject json, String key, String source, boolean nullable) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    if (v == null && nullable) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ConfigException(source + ": \"" + key + "\" must be a non-empty string, got " + v);
    }
    return s;
  }

  private static int integer(JsonObject json, String key, int min, int max, String source) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < min
        || n.longValue() > max) {
      throw new ConfigException(source + ": \"" + key + "\" must be a whole number from " + min + " to " + max + ", got " + v);
    }
    return n.intValue();
  }
}
