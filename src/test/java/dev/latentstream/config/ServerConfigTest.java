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
    return assertThrows(ConfigException.class, () -> ServerConfig.fromJson(json, "test")).getMessage();
  }

  @Test
  void theShippedDefaultsFileSaysWhatTheCodeDefaultsTo() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("config/server.json")));
    assertEquals(ServerConfig.KEYS, shipped.fieldNames(), "every key, once");
    assertEquals(ServerConfig.fromJson(new JsonObject(), "defaults"), ServerConfig.fromJson(shipped, "config/server.json"));
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
    assertTrue(error(new JsonObject().put("maxConcurrentJobs", 0)).contains("\"maxConcurrentJobs\""));
    assertTrue(error(new JsonObject().put("lossBatchMs", 2.5)).contains("\"lossBatchMs\""));
    assertTrue(error(new JsonObject().put("token", "short")).contains("\"token\""));
    assertTrue(error(new JsonObject().put("host", "")).contains("\"host\""));
    assertTrue(error(new JsonObject().put("watchRequiresToken", "yes")).contains("\"watchRequiresToken\""));
    assertTrue(error(new JsonObject().put("allowedOrigins", new JsonArray().add("example.com"))).contains("\"allowedOrigins\""));
  }

  @Test
  void environmentVariablesOverrideInTheKeysType() {
    assertEquals("LATENTSTREAM_MAX_CONCURRENT_JOBS", ServerConfig.envName("maxConcurrentJobs"));
    JsonObject json = ServerConfig.withEnvironment(new JsonObject().put("port", 1), Map.of("LATENTSTREAM_PORT", "9000",
        "LATENTSTREAM_WATCH_REQUIRES_TOKEN", "TRUE", "LATENTSTREAM_ALLOWED_ORIGINS", "http://a:1, https://b",
        "LATENTSTREAM_TOKEN", "from-the-environment", "UNRELATED", "x"));
    ServerConfig c = ServerConfig.fromJson(json, "test");
    assertEquals(9000, c.port());
    assertTrue(c.watchRequiresToken());
    assertEquals(List.of("http://a:1", "https://b"), c.allowedOrigins());
    assertEquals("from-the-environment", c.token());
    String bad = assertThrows(ConfigException.class,
        () -> ServerConfig.withEnvironment(new JsonObject(), Map.of("LATENTSTREAM_PORT", "eighty"))).getMessage();
    assertTrue(bad.contains("LATENTSTREAM_PORT") && bad.contains("\"port\""), bad);
  }

  @Test
  void theTokenIsComparedWhole() {
    ServerConfig c = ServerConfig.fromJson(new JsonObject().put("token", "0123456789"), "test");
    assertTrue(c.tokenMatches("0123456789"));
    assertFalse(c.tokenMatches("012345678"));
    assertFalse(c.tokenMatches(null));
    assertFalse(ServerConfig.fromJson(new JsonObject(), "test").tokenMatches("anything"), "no token, no match");
  }

  @Test
  void laterSourcesWinFileThenEnvironmentThenOptions(@TempDir Path dir) throws Exception {
    Path extra = dir.resolve("extra.json");
    Files.writeString(extra, "{\"port\": 9001, \"queueLimit\": 3}");
    Vertx vertx = Vertx.vertx();
    try {
      ServerConfig fromFile = ServerApp.loadConfig(vertx, extra, Map.of(), new JsonObject()).await();
      assertEquals(9001, fromFile.port());
      assertEquals(3, fromFile.queueLimit());
      assertEquals("vae-fashion", fromFile.defaultJob(), "the rest from config/server.json");
      assertEquals(9002, ServerApp.loadConfig(vertx, extra, Map.of("LATENTSTREAM_PORT", "9002"), new JsonObject())
          .await().port());
      assertEquals(9003, ServerApp.loadConfig(vertx, extra, Map.of("LATENTSTREAM_PORT", "9002"),
          new JsonObject().put("port", 9003)).await().port());
      Files.writeString(extra, "{\"port\": \"x\"}");
      String bad = assertThrows(ConfigException.class,
          () -> ServerApp.loadConfig(vertx, extra, Map.of(), new JsonObject()).await()).getMessage();
      assertTrue(bad.contains("\"port\""), bad);
    } finally {
      vertx.close().await();
    }
  }
}
