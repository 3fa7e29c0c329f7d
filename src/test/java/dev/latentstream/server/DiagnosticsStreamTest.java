package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Latent diagnostics and alarms travel from the trainer to viewers as the protocol document says.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DiagnosticsStreamTest {

  @Test
  void aVaeStreamsKlPerLatentDimensionAndANewcomerGetsTheLatest(@TempDir Path root)
      throws Exception {
    try (TestServer server = new TestServer(root, new JsonObject())) {
      JsonObject spec = server.spec(50, 4).put("diagnosticsEverySteps", 4).put("latent", 3);
      JsonObject job = server.startJob(spec);
      try (TestServer.Client watcher = server.connect(null, null)) {
        watcher.subscribe("d", job.getInteger("num"), "diagnostics");
        JsonObject d = watcher.nextType("diagnostics", 120);
        assertEquals("kl", d.getString("kind"));
        assertEquals(3, d.getJsonArray("values").size(), "one value per latent dimension");
        assertTrue(
            d.getJsonArray("values").stream().allMatch(v -> ((Number) v).doubleValue() >= 0),
            d.encode());
        assertTrue(
            d.getInteger("activeUnits") >= 0 && d.getInteger("activeUnits") <= 3, d.encode());
        JsonObject later =
            watcher.next(
                m ->
                    "diagnostics".equals(m.getString("type"))
                        && m.getLong("step") > d.getLong("step"),
                120);
        assertTrue(
            later.getLong("step") > d.getLong("step"),
            "diagnostics keep coming as training goes on");
      }
      try (TestServer.Client newcomer = server.connect(null, null)) {
        newcomer.subscribe("n", job.getInteger("num"), "diagnostics");
        assertEquals(
            "kl",
            newcomer.nextType("diagnostics", 10).getString("kind"),
            "a newcomer gets the latest diagnostics at once, not at the next tick");
      }
      server.stopJob(job.getString("id"));
    }
  }

  @Test
  void anAutoencoderStreamsTheVarianceOfItsCodes(@TempDir Path root) throws Exception {
    try (TestServer server = new TestServer(root, new JsonObject())) {
      JsonObject spec = server.spec(50, 4).put("model", "ae").put("diagnosticsEverySteps", 4);
      JsonObject job = server.startJob(spec);
      try (TestServer.Client watcher = server.connect(null, null)) {
        watcher.subscribe("d", job.getInteger("num"), "diagnostics");
        JsonObject d = watcher.nextType("diagnostics", 120);
        assertEquals("variance", d.getString("kind"));
        assertEquals(2, d.getJsonArray("values").size());
      }
      server.stopJob(job.getString("id"));
    }
  }
}
