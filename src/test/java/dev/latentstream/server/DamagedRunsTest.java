package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that finds run directories it cannot read lists each as damaged, with the reason, and
 * serves on.
 */
@Timeout(120)
class DamagedRunsTest {

  static Path run(Path root, String id, String jobJson) throws Exception {
    Path d = Files.createDirectories(root.resolve("runs").resolve(id));
    Files.writeString(d.resolve("job.json"), jobJson);
    return d;
  }

  @Test
  void damagedRunDirectoriesAreListedWithTheirReasonAndTheServerStartsNormally(@TempDir Path root)
      throws Exception {
    String job =
        new JsonObject()
            .put("name", "old")
            .put("model", "vae")
            .put("hidden", new JsonArray().add(64))
            .put("latent", 2)
            .put("batchSize", 32)
            .put("epochs", 2)
            .put("dataset", "synthetic")
            .encode();
    Files.writeString(run(root, "truncated-metrics", job).resolve("metrics.csv"), "step,ep");
    String header =
        "step,epoch,loss,test_loss,seconds,setting,active_units,topk_fraction,warning\n";
    // A row cut short before the last one: no crash leaves that.
    Files.writeString(
        run(root, "cut-mid-file", job).resolve("metrics.csv"),
        header + "1,1,9.5,,0.1,,,,\n2,1,9.\n3,1,9.1,,0.3,,,,\n");
    // A last row cut short, as a kill -9 in the middle of a write leaves it: the run is whole.
    Files.writeString(
        run(root, "killed-mid-write", job).resolve("metrics.csv"),
        header + "1,1,9.5,,0.1,,,,\n2,1,9.2,,0.2,,,,\n3,1,9.");
    run(root, "not-json", "{\"name\": \"old\", \"model\": ");
    Path corrupt =
        Files.createDirectories(run(root, "corrupt-checkpoints", job).resolve("checkpoint"));
    Files.write(corrupt.resolve("latest.pt"), new byte[] {1, 2, 3, 4});
    Files.write(corrupt.resolve("previous.pt"), new byte[] {5, 6, 7});
    Files.writeString(
        run(root, "from-the-future", job).resolve("identity.json"),
        "{\"format\": 99, \"id\": \"from-the-future\", \"num\": 3}");

    try (TestServer server = new TestServer(root, new JsonObject())) {
      Map<String, JsonObject> byId = new HashMap<>();
      for (Object o :
          new JsonArray(server.request(HttpMethod.GET, "/api/jobs", null, null).body())) {
        byId.put(((JsonObject) o).getString("id"), (JsonObject) o);
      }
      assertEquals(6, byId.size(), byId.toString());
      JsonObject killed = byId.get("killed-mid-write");
      assertEquals("stopped", killed.getString("status"), killed.encode());
      Map<String, String> reasons =
          Map.of(
              "truncated-metrics",
              "metrics.csv",
              "cut-mid-file",
              "metrics.csv is damaged at line 3",
              "not-json",
              "job.json",
              "corrupt-checkpoints",
              "latest.pt",
              "from-the-future",
              "newer version");
      for (var e : reasons.entrySet()) {
        JsonObject j = byId.get(e.getKey());
        assertEquals("damaged", j.getString("status"), j.encode());
        assertTrue(
            j.getString("damage", "").contains(e.getValue()),
            "the reason names the cause: " + j.encode());
        assertTrue(
            !j.getString("damage").contains(root.toString()), "and no server path: " + j.encode());
      }
      // It serves on: a new job trains, and a damaged run can be deleted, never resumed.
      String id = server.startRunning(server.spec(1, 0));
      assertEquals(
          409,
          server
              .request(HttpMethod.POST, "/api/jobs/not-json/resume", TestServer.TOKEN, null)
              .status());
      assertEquals(
          200,
          server.request(HttpMethod.DELETE, "/api/jobs/not-json", TestServer.TOKEN, null).status());
      assertTrue(!Files.exists(root.resolve("runs").resolve("not-json")));
      TestServer.awaitStatus(server, id, "completed", 60);
    }
  }
}
