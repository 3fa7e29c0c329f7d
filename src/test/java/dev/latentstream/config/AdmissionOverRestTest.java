package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer refuses what {@link JobAdmission} and the epoch rule refuse, before a job exists. */
class AdmissionOverRestTest {

  @TempDir static Path root;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject().put("maxJobBytes", 4L << 30));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static TestServer.Response post(JsonObject body) throws Exception {
    return server.request(HttpMethod.POST, "/api/jobs", TestServer.TOKEN, body.encode());
  }

  static String message(TestServer.Response r) {
    return r.json().getJsonObject("error").getString("message");
  }

  static int jobCount() throws Exception {
    return server
        .request(HttpMethod.GET, "/api/jobs", TestServer.TOKEN, null)
        .body()
        .toJsonArray()
        .size();
  }

  @Test
  void theHugeSpecIsRefusedWithBothFiguresAndNoJobIsCreated() throws Exception {
    int before = jobCount();
    TestServer.Response r = post(new JsonObject().put("spec", new JsonObject(JobBudgetTest.HUGE)));
    assertEquals(400, r.status(), r.body().toString());
    String message = message(r);
    assertTrue(
        message.contains("4294967296")
            && message.contains("maxJobBytes")
            && message.contains("estimated"),
        message);
    assertEquals(before, jobCount(), "no job was queued");
  }

  @Test
  void aHugeEpochsOverrideIsRefusedLikeTheSpecsOwn() throws Exception {
    for (Object epochs : new Object[] {1e9, Integer.MAX_VALUE, 100_001}) {
      TestServer.Response r =
          post(new JsonObject().put("spec", server.spec(1, 0)).put("epochs", epochs));
      assertEquals(400, r.status(), epochs + ": " + r.body());
      assertTrue(
          message(r).contains("\"epochs\"") && message(r).contains("from 1 to 100000"), message(r));
    }
  }

  @Test
  void aDatasetOutsideDataDirIsRefusedAndNoServerPathIsShown() throws Exception {
    for (String dataset : new String[] {"/etc", "../../x"}) {
      TestServer.Response r =
          post(new JsonObject().put("spec", server.spec(1, 0).put("dataset", dataset)));
      assertEquals(400, r.status(), dataset + ": " + r.body());
      String message = message(r);
      assertTrue(message.contains("\"dataset\"") && message.contains("allowDatasetPaths"), message);
      assertTrue(!message.contains(root.toString()), message);
    }
  }
}
