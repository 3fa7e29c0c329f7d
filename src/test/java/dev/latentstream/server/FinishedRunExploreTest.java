package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A finished run, loaded from disk by a new server, answers decode, interpolate and encode from its
 * checkpoint.
 */
@Timeout(180)
class FinishedRunExploreTest {

  @Test
  void aFinishedRunLoadedByANewServerAnswersDecodeInterpolateAndEncode(@TempDir Path root)
      throws Exception {
    String id;
    try (TestServer first = new TestServer(root, new JsonObject())) {
      id = first.startJob(first.spec(1, 0)).getString("id");
      TestServer.awaitStatus(first, id, "completed", 120);
    }
    // A generous interactive budget: this test is about the model coming back, not about rationing
    // (InteractiveBudgetTest).
    JsonObject generous =
        new JsonObject()
            .put("interactiveBudgetMsPerSecond", 1000)
            .put("interactiveClientMsPerSecond", 1000);
    try (TestServer second = new TestServer(root, generous);
        TestServer.Client c = second.connect(null, null)) {
      JsonObject job = c.nextType("welcome", 10).getJsonArray("jobs").getJsonObject(0);
      assertEquals(id, job.getString("id"));
      assertEquals("completed", job.getString("status"));
      assertTrue(
          job.getJsonArray("classes").size() > 1, "the legend's class names: " + job.encode());
      JsonObject decoded =
          c.ask(
              TestServer.message("decode", "d", id)
                  .put("plane", new JsonArray().add(0.5).add(-0.5)),
              60);
      assertEquals("decoded", decoded.getString("type"), decoded.encode());
      byte[] png =
          Base64.getDecoder()
              .decode(decoded.getJsonObject("result").getJsonArray("images").getString(0));
      assertEquals((byte) 0x89, png[0]);
      JsonObject path =
          c.ask(
              TestServer.message("interpolate", "i", job.getInteger("num"))
                  .put("from", new JsonObject().put("index", 0))
                  .put("to", new JsonObject().put("index", 1))
                  .put("steps", 4),
              60);
      assertEquals("interpolated", path.getString("type"), path.encode());
      assertEquals(4, path.getJsonObject("result").getJsonArray("images").size());
      JsonArray pixels = new JsonArray();
      for (int i = 0; i < 28 * 28; i++) {
        pixels.add(i % 7 == 0 ? 1.0 : 0.0);
      }
      JsonObject code = c.ask(TestServer.message("encode", "e", id).put("pixels", pixels), 60);
      assertEquals("encoded", code.getString("type"), code.encode());
      assertEquals(2, code.getJsonObject("result").getJsonArray("mean").getJsonArray(0).size());
    }
  }
}
