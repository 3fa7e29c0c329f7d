package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.server.ServerApp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {

  static String error(JsonObject json) {
    return assertThrows(ConfigException.class, () -> ServerConfig.fromJson(json, "test"))
        .getMessage();
  }

  @Test
  void theShippedDefaultsFileSaysWhatTheCodeDefaultsTo() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("config/server.json")));
    assertEquals(ServerConfig.KEYS, shipped.fieldNames(), "every key, once");
    assertEquals(
        ServerConfig.fromJson(new JsonObject(), "defaults"),
        ServerConfig.fromJson(shipped, "config/server.json"));
    ServerConfig d = ServerConfig.fromJson(new JsonObject(), "defaults");
    assertEquals("127.0.0.1", d.host());
    assertEquals(8080, d.port());
    assertNull(d.token(), "generated at start");
  }

  @Test
  void badValuesAreErrorsThatNameTheKey() {
    assertTrue(error(new JsonObject().put("prot", 80)).contains("unknown key \"prot\""));
    assertTrue(error(new JsonObject().put("port", 70000)).contains("\"port\""));
    assertTrue(error(new JsonObject().put("port", "80")).contains("\"port\""));
    assertTrue(
        error(new JsonObject().put("maxConcurrentJobs", 0)).contains("\"maxConcurrentJobs\""));
    assertTrue(error(new JsonObject().put("lossBatchMs", 2.5)).contains("\"lossBatchMs\""));
    assertTrue(error(new JsonObject().put("token", "short")).contains("\"token\""));
    assertTrue(error(new JsonObject().put("host", "")).contains("\"host\""));
    assertTrue(
        error(new JsonObject().put("watchRequiresToken", "yes"))
            .contains("\"watchRequiresToken\""));
    assertTrue(
        error(new JsonObject().put("allowedOrigins", new JsonArray().add("example.com")))
            .contains("\"allowedOrigins\""));
    assertTrue(
        error(new JsonObject().put("trustedProxies", new JsonArray().add("proxy.example")))
            .contains("\"trustedProxies\""));
  }

  @Test
  void theNewKeysHaveTheirDocumentedDefaults() {
    ServerConfig d = ServerConfig.fromJson(new JsonObject(), "defaults");
    assertEquals(2.0, d.maxFramesPerSecond());
    assertEquals(0, d.gatewayInstances());
    assertEquals(
        Runtime.getRuntime().availableProcessors(),
        d.gatewayInstanceCount(),
        "0 means one per core");
    assertEquals(4, d.interactiveMaxInFlightPerClient());
    assertEquals(16, d.interactiveMaxQueued());
    assertEquals(100, d.interactiveBudgetMsPerSecond());
    assertEquals(25, d.interactiveClientMsPerSecond());
    assertEquals(0, d.trainerThreads());
    assertTrue(d.resumeInterrupted());
    assertFalse(d.allowDatasetPaths());
    assertEquals(List.of(), d.clusterMembers());
    assertEquals("127.0.0.1", d.clusterHost());
    assertEquals(5701, d.clusterPort());
    assertEquals(ServerConfig.Role.all, d.role());
    long physical =
        ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getTotalMemorySize();
    assertEquals(physical / 4, d.maxJobBytes(), physical / 100, "a quarter of physical memory");
  }

  @Test
  void theNewKeysAcceptValidValues() {
    ServerConfig c =
        ServerConfig.fromJson(
            new JsonObject()
                .put("maxFramesPerSecond", 0.5)
                .put("gatewayInstances", 3)
                .put("maxJobBytes", 4294967301L)
                .put("clusterMembers", new JsonArray().add("10.0.0.2:5701").add("node-b:5702"))
                .put("role", "gateway")
                .put("resumeInterrupted", false),
            "test");
    assertEquals(0.5, c.maxFramesPerSecond());
    assertEquals(3, c.gatewayInstanceCount());
    assertEquals(4294967301L, c.maxJobBytes(), "a long, not wrapped to an int");
    assertEquals(List.of("10.0.0.2:5701", "node-b:5702"), c.clusterMembers());
    assertFalse(c.role().runsTrainer());
    assertTrue(c.role().runsGateway());
    assertFalse(c.resumeInterrupted());
  }

  @Test
  void badValuesOfTheNewKeysAreErrorsThatNameTheKey() {
    for (Map.Entry<String, Object> bad :
        List.<Map.Entry<String, Object>>of(
            Map.entry("maxFramesPerSecond", 0),
            Map.entry("maxFramesPerSecond", 1000),
            Map.entry("maxFramesPerSecond", "2"),
            Map.entry("gatewayInstances", -1),
            Map.entry("gatewayInstances", 1.9),
            Map.entry("interactiveMaxInFlightPerClient", 0),
            Map.entry("interactiveMaxQueued", 4294967301L),
            Map.entry("interactiveBudgetMsPerSecond", 1001),
            Map.entry("interactiveClientMsPerSecond", 0),
            Map.entry("trainerThreads", -1),
            Map.entry("trainerThreads", 1.5),
            Map.entry("resumeInterrupted", "yes"),
            Map.entry("maxJobBytes", 1024),
            Map.entry("maxJobBytes", new java.math.BigInteger("9223372036854775808")),
            Map.entry("maxJobBytes", 1e30),
            Map.entry("allowDatasetPaths", 1),
            Map.entry("clusterMembers", "10.0.0.2:5701"),
            Map.entry("clusterMembers", new JsonArray().add("10.0.0.2")),
            Map.entry("clusterMembers", new JsonArray().add("10.0.0.2:70000")),
            Map.entry("clusterHost", ""),
            Map.entry("clusterPort", 0),
            Map.entry("role", "worker"))) {
      String message = error(new JsonObject().put(bad.getKey(), bad.getValue()));
      assertTrue(message.contains("\"" + bad.getKey() + "\""), bad + " -> " + message);
    }
  }

  @Test
  void wholeNumbersAreNeverRoundedOrWrapped() {
    assertTrue(
        error(new JsonObject().put("port", 4294967301L)).contains("\"port\""),
        "2^32 + 5 is not port 5");
    assertTrue(error(new JsonObject().put("queueLimit", 1.9)).contains("\"queueLimit\""));
    assertTrue(
        error(new JsonObject().put("queueLimit", new java.math.BigInteger("9223372036854775808")))
            .contains("\"queueLimit\""),
        "2^63");
    assertEquals(
        3,
        ServerConfig.fromJson(new JsonObject().put("queueLimit", 3.0), "test").queueLimit(),
        "3.0 is 3");
  }

  @Test
  void environmentVariablesOverrideInTheKeysType() {
    assertEquals("LATENTSTREAM_MAX_CONCURRENT_JOBS", ServerConfig.envName("maxConcurrentJobs"));
    JsonObject json =
        ServerConfig.withEnvironment(
            new JsonObject().put("port", 1),
            Map.of(
                "LATENTSTREAM_PORT",
                "9000",
                "LATENTSTREAM_WATCH_REQUIRES_TOKEN",
                "TRUE",
                "LATENTSTREAM_ALLOWED_ORIGINS",
                "http://a:1, https://b",
                "LATENTSTREAM_TOKEN",
                "from-the-environment",
                "UNRELATED",
                "x"));
    ServerConfig c = ServerConfig.fromJson(json, "test");
    assertEquals(9000, c.port());
    assertTrue(c.watchRequiresToken());
    assertEquals(List.of("http://a:1", "https://b"), c.allowedOrigins());
    assertEquals("from-the-environment", c.token());
    ServerConfig more =
        ServerConfig.fromJson(
            ServerConfig.withEnvironment(
                new JsonObject(),
                Map.of(
                    "LATENTSTREAM_MAX_JOB_BYTES",
                    "8589934592",
                    "LATENTSTREAM_MAX_FRAMES_PER_SECOND",
                    "0.5",
                    "LATENTSTREAM_CLUSTER_MEMBERS",
                    "a:5701,b:5702",
                    "LATENTSTREAM_ROLE",
                    "trainer",
                    "LATENTSTREAM_TRUSTED_PROXIES",
                    "10.0.0.5, ::1")),
            "test");
    assertEquals(
        List.of("10.0.0.5", "0:0:0:0:0:0:0:1"), more.trustedProxies(), "one spelling per address");
    assertEquals(8589934592L, more.maxJobBytes());
    assertEquals(0.5, more.maxFramesPerSecond());
    assertEquals(List.of("a:5701", "b:5702"), more.clusterMembers());
    assertEquals(ServerConfig.Role.trainer, more.role());
    String bad =
        assertThrows(
                ConfigException.class,
                () ->
                    ServerConfig.withEnvironment(
                        new JsonObject(), Map.of("LATENTSTREAM_PORT", "eighty")))
            .getMessage();
    assertTrue(bad.contains("LATENTSTREAM_PORT") && bad.contains("\"port\""), bad);
  }

  @Test
  void theTokenIsComparedWhole() {
    ServerConfig c = ServerConfig.fromJson(new JsonObject().put("token", "0123456789"), "test");
    assertTrue(c.tokenMatches("0123456789"));
    assertFalse(c.tokenMatches("012345678"));
    assertFalse(c.tokenMatches(null));
    assertFalse(
        ServerConfig.fromJson(new JsonObject(), "test").tokenMatches("anything"),
        "no token, no match");
  }

  @Test
  void laterSourcesWinFileThenEnvironmentThenOptions(@TempDir Path dir) throws Exception {
    Path extra = dir.resolve("extra.json");
    Files.writeString(extra, "{\"port\": 9001, \"queueLimit\": 3}");
    Vertx vertx = Vertx.vertx();
    try {
      ServerConfig fromFile =
          ServerApp.loadConfig(vertx, extra, Map.of(), new JsonObject()).await();
      assertEquals(9001, fromFile.port());
      assertEquals(3, fromFile.queueLimit());
      assertEquals("vae-fashion", fromFile.defaultJob(), "the rest from config/server.json");
      assertEquals(
          9002,
          ServerApp.loadConfig(vertx, extra, Map.of("LATENTSTREAM_PORT", "9002"), new JsonObject())
              .await()
              .port());
      assertEquals(
          9003,
          ServerApp.loadConfig(
                  vertx,
                  extra,
                  Map.of("LATENTSTREAM_PORT", "9002"),
                  new JsonObject().put("port", 9003))
              .await()
              .port());
      Files.writeString(extra, "{\"port\": \"x\"}");
      String bad =
          assertThrows(
                  ConfigException.class,
                  () -> ServerApp.loadConfig(vertx, extra, Map.of(), new JsonObject()).await())
              .getMessage();
      assertTrue(bad.contains("\"port\""), bad);
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aServingProcessLeavesTheEventLoopsACoreWhileATrainerNodeTrainsOnAll() {
    int cores = Runtime.getRuntime().availableProcessors();
    assertEquals(
        Math.max(1, cores - 1), ServerConfig.fromJson(new JsonObject(), "t").trainerCores());
    assertEquals(
        cores, ServerConfig.fromJson(new JsonObject().put("role", "trainer"), "t").trainerCores());
    assertEquals(
        Math.max(1, cores - 1),
        ServerConfig.fromJson(new JsonObject().put("role", "gateway"), "t").trainerCores());
    assertEquals(
        3, ServerConfig.fromJson(new JsonObject().put("trainerThreads", 3), "t").trainerCores());
  }

  @Test
  void concurrentJobsShareTheTrainerCores() {
    JsonObject twoOnTwo = new JsonObject().put("trainerThreads", 2).put("maxConcurrentJobs", 2);
    assertEquals(1, ServerConfig.fromJson(twoOnTwo, "t").coresPerJob());
    assertEquals(
        2, ServerConfig.fromJson(twoOnTwo.copy().put("maxConcurrentJobs", 1), "t").coresPerJob());
    assertEquals(
        1, ServerConfig.fromJson(twoOnTwo.copy().put("maxConcurrentJobs", 3), "t").coresPerJob());
  }

  @Test
  void theEngineForJobsThatNameNoneComesFromLatentstreamEngine() {
    assertEquals(
        JobConfig.Engine.AUTO, ServerConfig.fromJson(new JsonObject(), "server.json").engine());
    ServerConfig fromEnv =
        ServerConfig.fromJson(
            ServerConfig.withEnvironment(
                new JsonObject(), Map.of("LATENTSTREAM_ENGINE", "libtorch")),
            "server.json");
    assertEquals(JobConfig.Engine.LIBTORCH, fromEnv.engine());
    ConfigException bad =
        assertThrows(
            ConfigException.class,
            () -> ServerConfig.fromJson(new JsonObject().put("engine", "gpu"), "server.json"));
    assertTrue(
        bad.getMessage().contains("\"engine\" must be libtorch, native or auto"), bad.getMessage());
  }
}
