package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Runs outlive the server: a restarted one lists them, replays their history and resumes them. */
@Timeout(180)
class RestartTest {

  @Test
  void aRestartedServerListsPastRunsReplaysTheirHistoryAndResumesThem(@TempDir Path root)
      throws Exception {
    TestServer.StoppedRun stopped = TestServer.stoppedAfterFirstEpoch(root, 3);
    String id = stopped.id();
    long stoppedAt = stopped.step();
    assertTrue(Files.isRegularFile(root.resolve("runs").resolve(id).resolve("status.json")));

    try (TestServer second = new TestServer(root, new JsonObject())) {
      JsonArray jobs =
          new JsonArray(second.request(HttpMethod.GET, "/api/jobs", null, null).body());
      assertEquals(1, jobs.size(), jobs.encode());
      JsonObject past = jobs.getJsonObject(0);
      assertEquals(id, past.getString("id"));
      assertEquals("stopped", past.getString("status"));
      int epoch = past.getInteger("epoch");
      assertTrue(epoch >= 1, "the checkpoint's epoch: " + past.encode());

      try (TestServer.Client c = second.connect(null, null)) {
        assertEquals(
            id, c.nextType("welcome", 10).getJsonArray("jobs").getJsonObject(0).getString("id"));
        c.send(new JsonObject().put("type", "subscribe").put("job", id));
        JsonObject history = c.nextType("history", 10);
        JsonArray steps = history.getJsonObject("columns").getJsonArray("step");
        assertEquals(stoppedAt, steps.size(), "every step of the stopped run, from metrics.csv");
        assertEquals(epoch, history.getJsonObject("test").getJsonArray("loss").size());
        assertTrue(history.getJsonObject("columns").getJsonArray("kl").getDouble(0) > 0);
        Buffer latent = c.nextFrame(3, 10);
        assertEquals(16L * epoch, latent.getLong(8), "the last epoch-end frame, from its PNG");
        assertEquals(epoch, latent.getInt(16));
        var image = ImageIO.read(new ByteArrayInputStream(latent.getBytes(24, latent.length())));
        assertNotNull(image);
        assertEquals(latent.getShort(20), image.getWidth());
      }
      String frames = "/api/jobs/" + id + "/frames/manifold.png?step=";
      TestServer.Response atEpochEnd = second.request(HttpMethod.GET, frames + 16, null, null);
      assertEquals(200, atEpochEnd.status());
      assertEquals(
          "16",
          atEpochEnd.headers().firstValue("X-Step").orElse(""),
          "epoch 1's frame, kept at step 16");
      TestServer.Response atStop = second.request(HttpMethod.GET, frames + stoppedAt, null, null);
      assertEquals(
          String.valueOf(16L * epoch),
          atStop.headers().firstValue("X-Step").orElse(""),
          "the last epoch-end frame at or before the step");
      // No frame is kept at or before step 1 (the first is step 16's) and no epoch ended by then:
      // protocol.md
      // promises 404 "not kept", never a later picture passed off as step 1's.
      TestServer.Response before = second.request(HttpMethod.GET, frames + 1, null, null);
      assertEquals(404, before.status());
      assertTrue(
          before.json().getJsonObject("error").getString("message").startsWith("not kept"),
          before.json().encode());

      assertEquals(
          200,
          second
              .request(HttpMethod.POST, "/api/jobs/" + id + "/resume", TestServer.TOKEN, null)
              .status());
      TestServer.awaitStatus(second, id, "completed", 60);
      try (TestServer.Client late = second.connect(null, null)) {
        late.send(
            new JsonObject()
                .put("type", "subscribe")
                .put("job", id)
                .put("streams", new JsonArray().add("loss")));
        JsonObject history = late.nextType("history", 10);
        JsonArray steps = history.getJsonObject("columns").getJsonArray("step");
        assertEquals(
            48,
            steps.size(),
            "3 epochs of 16 steps: the rows up to the checkpoint, then the resumed run's");
        for (int i = 0; i < steps.size(); i++) {
          assertEquals(i + 1L, steps.getLong(i));
        }
        assertEquals(
            new JsonArray().add(1).add(2).add(3),
            history.getJsonObject("test").getJsonArray("epoch"));
      }
    }
  }
}
