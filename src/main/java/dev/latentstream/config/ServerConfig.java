package dev.latentstream.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The server's settings, validated in one place. Sources, later ones winning: {@code
 * config/server.json}, a file given with {@code --config}, environment variables {@code
 * LATENTSTREAM_<KEY>} (the key in upper snake case, e.g. {@code LATENTSTREAM_PORT}, {@code
 * LATENTSTREAM_TOKEN}), then command-line options. Every error names the key. See {@code
 * docs/configuration.md} for units and defaults.
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
    List<String> trustedProxies,
    int maxConcurrentJobs,
    int queueLimit,
    int maxMessageBytes,
    int maxConnectionsPerIp,
    long slowClientTimeoutMs,
    int writeQueueBytes,
    long lossBatchMs,
    int frameHistory,
    double maxFramesPerSecond,
    int viewerBytesPerSecond,
    long maxEgressBytesPerSecond,
    int gatewayInstances,
    int interactiveMaxInFlightPerClient,
    int interactiveMaxQueued,
    int interactiveBudgetMsPerSecond,
    int interactiveClientMsPerSecond,
    int trainerThreads,
    boolean resumeInterrupted,
    long maxJobBytes,
    int maxExploredModels,
    boolean allowDatasetPaths,
    boolean openModelDownloads,
    List<String> clusterMembers,
    String clusterHost,
    int clusterPort,
    Role role,
    JobConfig.Engine engine) {

  /** Which verticles this process runs: both sides, or one side of a cluster. */
  public enum Role {
    all,
    trainer,
    gateway;

    public boolean runsTrainer() {
      return this != gateway;
    }

    public boolean runsGateway() {
      return this != trainer;
    }
  }

  /** Share of physical memory one job may use when {@code maxJobBytes} is not set. */
  static final double DEFAULT_JOB_MEMORY_SHARE = 0.25;

  private static final Map<String, Object> DEFAULTS =
      Map.ofEntries(
          Map.entry("host", "127.0.0.1"),
          Map.entry("port", 8080),
          Map.entry("runsDir", "runs"),
          Map.entry("jobsDir", "config/jobs"),
          Map.entry("defaultJob", "vae-fashion"),
          Map.entry("watchRequiresToken", false),
          Map.entry("allowedOrigins", new JsonArray()),
          Map.entry("trustedProxies", new JsonArray()),
          Map.entry("maxConcurrentJobs", 1),
          Map.entry("queueLimit", 8),
          Map.entry("maxMessageBytes", 65536),
          Map.entry("maxConnectionsPerIp", 32),
          Map.entry("slowClientTimeoutMs", 10000),
          Map.entry("writeQueueBytes", 4 * 1024 * 1024),
          Map.entry("lossBatchMs", 25),
          Map.entry("frameHistory", 300),
          Map.entry("maxFramesPerSecond", 2.0),
          Map.entry("viewerBytesPerSecond", 90_000),
          Map.entry("maxEgressBytesPerSecond", 20_000_000),
          Map.entry("gatewayInstances", 0),
          Map.entry("interactiveMaxInFlightPerClient", 4),
          Map.entry("interactiveMaxQueued", 16),
          Map.entry("interactiveBudgetMsPerSecond", 100),
          Map.entry("interactiveClientMsPerSecond", 25),
          Map.entry("trainerThreads", 0),
          Map.entry("resumeInterrupted", true),
          Map.entry("maxJobBytes", defaultMaxJobBytes()),
          Map.entry("maxExploredModels", 2),
          Map.entry("allowDatasetPaths", false),
          Map.entry("openModelDownloads", false),
          Map.entry("clusterMembers", new JsonArray()),
          Map.entry("clusterHost", "127.0.0.1"),
          Map.entry("clusterPort", 5701),
          Map.entry("role", "all"),
          Map.entry("engine", "auto"));

  static final Set<String> KEYS =
      Set.of(
          "host",
          "port",
          "runsDir",
          "dataDir",
          "jobsDir",
          "defaultJob",
          "token",
          "watchRequiresToken",
          "allowedOrigins",
          "trustedProxies",
          "maxConcurrentJobs",
          "queueLimit",
          "maxMessageBytes",
          "maxConnectionsPerIp",
          "slowClientTimeoutMs",
          "writeQueueBytes",
          "lossBatchMs",
          "frameHistory",
          "maxFramesPerSecond",
          "viewerBytesPerSecond",
          "maxEgressBytesPerSecond",
          "gatewayInstances",
          "interactiveMaxInFlightPerClient",
          "interactiveMaxQueued",
          "interactiveBudgetMsPerSecond",
          "interactiveClientMsPerSecond",
          "trainerThreads",
          "resumeInterrupted",
          "maxJobBytes",
          "maxExploredModels",
          "allowDatasetPaths",
          "openModelDownloads",
          "clusterMembers",
          "clusterHost",
          "clusterPort",
          "role",
          "engine");

  /** This config with {@code token} set (e.g. a generated one). */
  public ServerConfig withToken(String token) {
    return new ServerConfig(
        host,
        port,
        runsDir,
        dataDir,
        jobsDir,
        defaultJob,
        token,
        watchRequiresToken,
        allowedOrigins,
        trustedProxies,
        maxConcurrentJobs,
        queueLimit,
        maxMessageBytes,
        maxConnectionsPerIp,
        slowClientTimeoutMs,
        writeQueueBytes,
        lossBatchMs,
        frameHistory,
        maxFramesPerSecond,
        viewerBytesPerSecond,
        maxEgressBytesPerSecond,
        gatewayInstances,
        interactiveMaxInFlightPerClient,
        interactiveMaxQueued,
        interactiveBudgetMsPerSecond,
        interactiveClientMsPerSecond,
        trainerThreads,
        resumeInterrupted,
        maxJobBytes,
        maxExploredModels,
        allowDatasetPaths,
        openModelDownloads,
        clusterMembers,
        clusterHost,
        clusterPort,
        role,
        engine);
  }

  /**
   * {@value #DEFAULT_JOB_MEMORY_SHARE} of physical memory, read from the operating system; 1 GiB
   * when the JVM cannot say (a non-HotSpot runtime).
   */
  static long defaultMaxJobBytes() {
    if (ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        && os.getTotalMemorySize() > 0) {
      return (long) (os.getTotalMemorySize() * DEFAULT_JOB_MEMORY_SHARE);
    }
    return 1L << 30;
  }

  /** Whether {@code given} is the control token, compared in constant time. */
  public boolean tokenMatches(String given) {
    return token != null
        && given != null
        && MessageDigest.isEqual(
            given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code LATENTSTREAM_MAX_CONCURRENT_JOBS} → {@code maxConcurrentJobs}. */
  public static String envName(String key) {
    return "LATENTSTREAM_" + key.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  /**
   * Overlays {@code LATENTSTREAM_*} variables onto {@code json}, converting to the key's JSON type.
   */
  public static JsonObject withEnvironment(JsonObject json, Map<String, String> env) {
    JsonObject out = json.copy();
    for (String key : KEYS) {
      String v = env.get(envName(key));
      if (v == null) {
        continue;
      }
      Object dflt = DEFAULTS.get(key);
      if (dflt instanceof Integer || dflt instanceof Long) {
        try {
          out.put(key, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
          throw new ConfigException(
              envName(key) + ": \"" + key + "\" must be a whole number, got \"" + v + "\"");
        }
      } else if (dflt instanceof Double) {
        try {
          out.put(key, Double.parseDouble(v.trim()));
        } catch (NumberFormatException e) {
          throw new ConfigException(
              envName(key) + ": \"" + key + "\" must be a number, got \"" + v + "\"");
        }
      } else if (dflt instanceof Boolean) {
        if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
          throw new ConfigException(
              envName(key) + ": \"" + key + "\" must be true or false, got \"" + v + "\"");
        }
        out.put(key, Boolean.parseBoolean(v));
      } else if (dflt instanceof JsonArray) {
        out.put(
            key,
            new JsonArray(
                List.of(v.split(",")).stream()
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList()));
      } else {
        out.put(key, v);
      }
    }
    return out;
  }

  public static ServerConfig fromJson(JsonObject given, String source) {
    JsonObject json = given.copy();
    if (json.containsKey("maxJobBytes") && json.getValue("maxJobBytes") == null) {
      // null in config/server.json: the share of this machine's memory, which no file can know
      json.remove("maxJobBytes");
    }
    for (String key : json.fieldNames()) {
      if (!KEYS.contains(key)) {
        throw ConfigException.unknownKey(source, key, KEYS);
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
      throw new ConfigException(
          source + ": \"allowedOrigins\" must be an array of origins like \"http://host:port\"");
    }
    List<String> allowed = new ArrayList<>();
    for (Object o : arr) {
      String s = ((String) o).replaceAll("/+$", "");
      if (!s.matches("https?://[^/\\s]+")) {
        throw new ConfigException(
            source
                + ": \"allowedOrigins\" entry \""
                + o
                + "\" is not an origin like http://host:port");
      }
      allowed.add(s);
    }
    List<String> proxies = new ArrayList<>();
    for (String p : strings(json, "trustedProxies", source, "IP addresses like \"10.0.0.5\"")) {
      try {
        proxies.add(InetAddress.ofLiteral(p.trim()).getHostAddress());
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            source + ": \"trustedProxies\" entry \"" + p + "\" is not an IP address");
      }
    }
    List<String> members = new ArrayList<>();
    for (String m :
        strings(json, "clusterMembers", source, "host:port addresses like \"10.0.0.2:5701\"")) {
      if (!m.matches("[^\\s:]+:\\d{1,5}")
          || Integer.parseInt(m.substring(m.lastIndexOf(':') + 1)) < 1
          || Integer.parseInt(m.substring(m.lastIndexOf(':') + 1)) > 65535) {
        throw new ConfigException(
            source
                + ": \"clusterMembers\" entry \""
                + m
                + "\" is not host:port with a port from 1 to 65535");
      }
      members.add(m);
    }
    String roleName = string(json, "role", source, false);
    Role role;
    try {
      role = Role.valueOf(roleName);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          source + ": \"role\" must be one of all, trainer, gateway, got \"" + roleName + "\"");
    }
    return new ServerConfig(
        host,
        port,
        Path.of(string(json, "runsDir", source, false)),
        dataDir == null ? null : Path.of(dataDir),
        Install.resolve(Path.of(string(json, "jobsDir", source, false))),
        string(json, "defaultJob", source, false),
        token,
        bool(json, "watchRequiresToken", source),
        List.copyOf(allowed),
        List.copyOf(proxies),
        integer(json, "maxConcurrentJobs", 1, 64, source),
        integer(json, "queueLimit", 0, 10_000, source),
        integer(json, "maxMessageBytes", 256, 16 << 20, source),
        integer(json, "maxConnectionsPerIp", 1, 100_000, source),
        integer(json, "slowClientTimeoutMs", 100, 3_600_000, source),
        integer(json, "writeQueueBytes", 4096, 1 << 30, source),
        integer(json, "lossBatchMs", 10, 10_000, source),
        integer(json, "frameHistory", 1, 100_000, source),
        number(json, "maxFramesPerSecond", 0.01, 60, source),
        viewerBytes(json, source),
        wholeNumber(json, "maxEgressBytesPerSecond", 0, 1L << 40, source),
        integer(json, "gatewayInstances", 0, 256, source),
        integer(json, "interactiveMaxInFlightPerClient", 1, 1024, source),
        integer(json, "interactiveMaxQueued", 1, 100_000, source),
        integer(json, "interactiveBudgetMsPerSecond", 1, 1000, source),
        integer(json, "interactiveClientMsPerSecond", 1, 1000, source),
        integer(json, "trainerThreads", 0, 1024, source),
        bool(json, "resumeInterrupted", source),
        wholeNumber(json, "maxJobBytes", 1L << 20, Long.MAX_VALUE, source),
        integer(json, "maxExploredModels", 0, 64, source),
        bool(json, "allowDatasetPaths", source),
        bool(json, "openModelDownloads", source),
        List.copyOf(members),
        string(json, "clusterHost", source, false),
        integer(json, "clusterPort", 1, 65535, source),
        role,
        engine(json, source));
  }

  /** The engine for jobs that name none ({@code LATENTSTREAM_ENGINE}, {@code serve --engine}). */
  private static JobConfig.Engine engine(JsonObject json, String source) {
    String name = string(json, "engine", source, false);
    try {
      return JobConfig.Engine.of(name);
    } catch (ConfigException e) {
      throw new ConfigException(source + ": " + e.getMessage());
    }
  }

  /**
   * Cores a job may train on when its spec does not say ({@code threads}): {@code trainerThreads},
   * or when that is 0 every core for a trainer node and all but one for a process that also serves
   * viewers, so the event loops always have a core and training does not stall whenever they run.
   */
  public int trainerCores() {
    int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
    if (trainerThreads > 0) {
      return trainerThreads;
    }
    return role.runsGateway() ? Math.max(1, cores - 1) : cores;
  }

  /**
   * Each running job's share of {@link #trainerCores()}: with {@code maxConcurrentJobs} 2 on 2
   * cores, one core each, so concurrent jobs never ask for more threads than there are cores.
   */
  public int coresPerJob() {
    return Math.max(1, trainerCores() / maxConcurrentJobs);
  }

  /**
   * The number of gateway verticle instances to deploy: {@code gatewayInstances}, or one per core
   * when it is 0.
   */
  public int gatewayInstanceCount() {
    return gatewayInstances > 0
        ? gatewayInstances
        : Math.max(1, Runtime.getRuntime().availableProcessors());
  }

  /** 0 (no budget), or at least a small frame's worth per second. */
  private static int viewerBytes(JsonObject json, String source) {
    int v = integer(json, "viewerBytesPerSecond", 0, 1 << 30, source);
    if (v != 0 && v < 4096) {
      throw new ConfigException(
          source
              + ": \"viewerBytesPerSecond\" must be 0 (no budget) or from 4096 to "
              + (1 << 30)
              + ", got "
              + v);
    }
    return v;
  }

  private static boolean bool(JsonObject json, String key, String source) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(source + ": \"" + key + "\" must be true or false, got " + v);
    }
    return b;
  }

  private static List<String> strings(JsonObject json, String key, String source, String what) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    if (!(v instanceof JsonArray arr) || !arr.stream().allMatch(o -> o instanceof String)) {
      throw new ConfigException(
          source + ": \"" + key + "\" must be an array of " + what + ", got " + v);
    }
    return arr.stream().map(String.class::cast).toList();
  }

  private static double number(JsonObject json, String key, double min, double max, String source) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    if (!(v instanceof Number n)
        || !Double.isFinite(n.doubleValue())
        || n.doubleValue() < min
        || n.doubleValue() > max) {
      throw new ConfigException(
          source + ": \"" + key + "\" must be a number from " + min + " to " + max + ", got " + v);
    }
    return n.doubleValue();
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
    return (int) wholeNumber(json, key, min, max, source);
  }

  /**
   * An exact whole number in range. Doubles such as 1.9 or 1e30 and integers past {@code long}
   * (which Jackson reads as BigInteger) are errors, never rounded or wrapped.
   */
  private static long wholeNumber(JsonObject json, String key, long min, long max, String source) {
    Object v = json.containsKey(key) ? json.getValue(key) : DEFAULTS.get(key);
    boolean exact =
        v instanceof Integer
            || v instanceof Long
            || v instanceof Short
            || v instanceof Byte
            || (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53)
            || (v instanceof Float f && f == Math.rint(f) && Math.abs(f) < 0x1p24);
    if (!exact || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
      throw new ConfigException(
          source
              + ": \""
              + key
              + "\" must be a whole number from "
              + min
              + " to "
              + max
              + ", got "
              + v);
    }
    return ((Number) v).longValue();
  }
}
