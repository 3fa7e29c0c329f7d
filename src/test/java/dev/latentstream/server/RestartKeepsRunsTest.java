package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart keeps every run as it was: the same ids and numbers, queued jobs queued in their order,
 * interrupted ones resumed, finished ones finished, and the default job is not started a second
 * time.
 */
@Timeout(240)
class RestartKeepsRunsTest {

  static JsonObject spec(Path root, String name, int epochs) {
    return TestServer.tinyVae(epochs, 0, root.resolve("synthetic")).put("name", name);
  }

  /** id → [num, status], in the order the server lists them. */
  static Map<String, List<Object>> jobs(TestServer s) throws Exception {
    Map<String, List<Object>> out = new LinkedHashMap<>();
    for (Object o : new JsonArray(s.request(HttpMethod.GET, "/api/jobs", null, null).body())) {
      JsonObject j = (JsonObject) o;
      out.put(j.getString("id"), List.of(j.getInteger("num"), j.getString("status")));
    }
    return out;
  }

  static void stepped(TestServer s, String id) throws Exception {
    long end = System.nanoTime() + 60_000_000_000L;
    while (s.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json().getLong("step", 0L)
        < 1) {
      assertTrue(System.nanoTime() < end, "job " + id + " took no step");
      Thread.sleep(50);
    }
  }

  @Test
  void aRestartedServerKeepsEveryRunsIdNumberAndStateAndStartsNoSecondDefaultJob(@TempDir Path root)
      throws Exception {
    // The names sort in another order than the jobs were made, so numbering by name would show.
    JsonObject defaultJob = spec(root, "zz-default", 1000);
    JsonObject config = new JsonObject().put("maxConcurrentJobs", 2);
    String finished;
    String running;
    String queued;
    String queuedToo;
    Map<String, List<Object>> before;
    try (TestServer first = new TestServer(root, config, defaultJob)) {
      finished = first.startJob(spec(root, "cc-finished", 1)).getString("id");
      TestServer.awaitStatus(first, finished, "completed", 120);
      running = first.startRunning(spec(root, "aa-running", 1000));
      queued = first.startJob(spec(root, "bb-queued", 1000)).getString("id");
      queuedToo = first.startJob(spec(root, "ab-queued", 1000)).getString("id");
      before = jobs(first);
      for (String id : before.keySet()) {
        if ("running".equals(before.get(id).get(1))) {
          stepped(first, id); // a stop after a step checkpoints it there
        }
      }
    }
    assertEquals(4 + 1, before.size(), before.toString());
    String defaultId =
        before.keySet().stream()
            .filter(id -> id.startsWith("zz-default"))
            .findFirst()
            .orElseThrow();
    assertEquals("running", before.get(defaultId).get(1));
    assertEquals("running", before.get(running).get(1));
    assertEquals("queued", before.get(queued).get(1));
    assertEquals("queued", before.get(queuedToo).get(1));
    assertEquals("completed", before.get(finished).get(1));
    assertEquals(
        5,
        Set.copyOf(before.values().stream().map(v -> v.get(0)).toList()).size(),
        "one number per run");

    try (TestServer second = new TestServer(root, config, defaultJob)) {
      Map<String, List<Object>> after = jobs(second);
      assertEquals(
          before.keySet(), after.keySet(), "the same runs, no second default job: " + after);
      for (String id : before.keySet()) {
        assertEquals(
            before.get(id).get(0),
            after.get(id).get(0),
            "run " + id + " keeps its number: " + after);
      }
      assertEquals("completed", after.get(finished).get(1));
      // The interrupted runs were resumed first and hold the two slots; the queued ones wait, in
      // their order.
      assertEquals("queued", after.get(queued).get(1), after.toString());
      assertEquals("queued", after.get(queuedToo).get(1), after.toString());
      for (String id : List.of(defaultId, running)) {
        assertNotEquals("interrupted", after.get(id).get(1), "resumed: " + after);
        JsonObject job = second.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json();
        assertTrue(
            job.getLong("resumedAtStep", -1L) > 0, "resumed from its checkpoint: " + job.encode());
      }
      // A number means the same run as before the restart, over REST and WebSocket alike.
      int num = (Integer) before.get(finished).get(0);
      JsonObject byNumber = second.request(HttpMethod.GET, "/api/jobs/" + num, null, null).json();
      assertEquals(finished, byNumber.getString("id"));
      assertEquals(
          1.0, byNumber.getDouble("progress"), "a finished run is all done: " + byNumber.encode());
      assertTrue(byNumber.getJsonArray("classes").size() > 1, "its classes: " + byNumber.encode());
      assertTrue(byNumber.containsKey("testLoss"), "its last test loss: " + byNumber.encode());
      try (TestServer.Client c = second.connect(null, null)) {
        JsonArray welcome = c.nextType("welcome", 10).getJsonArray("jobs");
        for (Object o : welcome) {
          JsonObject j = (JsonObject) o;
          assertEquals(before.get(j.getString("id")).get(0), j.getInteger("num"), welcome.encode());
        }
      }
      // A freed slot goes to the queued job that queued first: the order survived the restart.
      second.request(HttpMethod.POST, "/api/jobs/" + running + "/stop", TestServer.TOKEN, null);
      TestServer.awaitStatus(second, running, "stopped", 60);
      TestServer.awaitStatus(second, queued, "running", 60);
      assertEquals("queued", jobs(second).get(queuedToo).get(1), "the later one still waits");
    }
  }

  /** id → sweep id (null for none) of every run listed. */
  static Map<String, String> sweeps(TestServer s) throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    for (Object o : new JsonArray(s.request(HttpMethod.GET, "/api/jobs", null, null).body())) {
      JsonObject j = (JsonObject) o;
      out.put(j.getString("id"), j.getString("sweep"));
    }
    return out;
  }

  @Test
  void aSweepsMembersKeepTheirSweepIdAcrossARestart(@TempDir Path root) throws Exception {
    JsonObject config = new JsonObject().put("maxConcurrentJobs", 1);
    String sweep;
    Map<String, String> before;
    String alone;
    try (TestServer first = new TestServer(root, config)) {
      alone = first.startJob(spec(root, "alone", 1000)).getString("id");
      JsonObject grid = new JsonObject().put("beta", new JsonArray().add(1).add(4).add(8));
      var r =
          first.request(
              HttpMethod.POST,
              "/api/jobs",
              TestServer.TOKEN,
              new JsonObject().put("spec", spec(root, "swept", 1)).put("sweep", grid).encode());
      assertEquals(201, r.status(), r.body().toString());
      sweep = r.json().getString("sweep");
      before = sweeps(first);
    }
    assertEquals(
        3, before.values().stream().filter(sweep::equals).count(), "three members: " + before);
    assertEquals(null, before.get(alone), "a job of no sweep");
    try (TestServer second = new TestServer(root, config)) {
      assertEquals(before, sweeps(second), "every run with its sweep id after the restart");
    }
  }
}
