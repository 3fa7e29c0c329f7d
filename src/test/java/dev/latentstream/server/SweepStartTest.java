package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep through {@code start}: the grid's jobs queued as ordinary jobs that share a sweep id, or
 * none of them.
 */
@Timeout(120)
class SweepStartTest {

  @Test
  void aSweepQueuesOneJobPerGridPointWithASharedSweepIdAndBadGridsNameTheKey(@TempDir Path root)
      throws Exception {
    try (TestServer server =
        new TestServer(root, new JsonObject().put("maxConcurrentJobs", 1).put("queueLimit", 4))) {
      JsonObject spec = server.spec(1, 4);
      JsonObject grid =
          new JsonObject()
              .put("beta", new JsonArray().add(1).add(4))
              .put("latent", new JsonArray().add(2).add(3));
      var r =
          server.request(
              HttpMethod.POST,
              "/api/jobs",
              TestServer.TOKEN,
              new JsonObject().put("spec", spec).put("sweep", grid).encode());
      assertEquals(201, r.status(), r.body().toString());
      String sweep = r.json().getString("sweep");
      JsonArray jobs = r.json().getJsonArray("jobs");
      assertEquals(4, jobs.size());
      assertEquals(
          List.of(
              "custom-beta1-latent2",
              "custom-beta1-latent3",
              "custom-beta4-latent2",
              "custom-beta4-latent3"),
          jobs.stream().map(j -> ((JsonObject) j).getString("name")).toList());
      for (Object o : jobs) {
        JsonObject j = (JsonObject) o;
        assertEquals(sweep, j.getString("sweep"));
        assertTrue(j.getString("id").startsWith(j.getString("name")), j.encode());
      }
      assertEquals(4.0, jobs.getJsonObject(2).getJsonObject("spec").getDouble("beta"));
      assertEquals(3, jobs.getJsonObject(3).getJsonObject("spec").getInteger("latent"));
      JsonArray listed =
          new JsonArray(server.request(HttpMethod.GET, "/api/jobs", null, null).body());
      assertEquals(
          4,
          listed.stream().filter(j -> sweep.equals(((JsonObject) j).getString("sweep"))).count());

      // The queue (one running, four waiting at most) cannot take another four: none is queued.
      var full =
          server.request(
              HttpMethod.POST,
              "/api/jobs",
              TestServer.TOKEN,
              new JsonObject().put("spec", spec).put("sweep", grid).encode());
      assertEquals(503, full.status(), full.body().toString());
      assertTrue(full.body().toString().contains("sweep's 4 runs"), full.body().toString());
      assertEquals(
          4, new JsonArray(server.request(HttpMethod.GET, "/api/jobs", null, null).body()).size());

      for (var bad :
          List.of(
              new Object[] {new JsonObject().put("beta", 4), "sweep.beta"},
              new Object[] {new JsonObject().put("bogus", new JsonArray().add(1)), "bogus"},
              new Object[] {
                new JsonObject().put("latent", new JsonArray().add(2).add(-1)), "latent"
              },
              new Object[] {
                new JsonObject()
                    .put(
                        "latent",
                        new JsonArray().add(1).add(2).add(3).add(4).add(5).add(6).add(7).add(8))
                    .put(
                        "beta",
                        new JsonArray()
                            .add(1)
                            .add(2)
                            .add(3)
                            .add(4)
                            .add(5)
                            .add(6)
                            .add(7)
                            .add(8)
                            .add(9)),
                "sweep.beta"
              })) {
        var e =
            server.request(
                HttpMethod.POST,
                "/api/jobs",
                TestServer.TOKEN,
                new JsonObject().put("spec", spec).put("sweep", bad[0]).encode());
        assertEquals(400, e.status(), e.body().toString());
        assertTrue(e.body().toString().contains((String) bad[1]), bad[1] + " in " + e.body());
      }
    }
  }
}
