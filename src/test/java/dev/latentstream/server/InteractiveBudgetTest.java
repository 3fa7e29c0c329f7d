package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * All clients together get a bounded share of the trainer for decode and friends; the rest hear
 * "busy" at once.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InteractiveBudgetTest {

  static final int FLOOD = 60;

  /**
   * Sends {@link #FLOOD} decodes at once to a live job on a server with {@code limits}; returns one
   * reply each.
   */
  static List<JsonObject> flood(Path root, JsonObject limits) throws Exception {
    try (TestServer server =
        new TestServer(root, limits.put("interactiveMaxInFlightPerClient", 256))) {
      JsonObject job = server.startJob(server.spec(1000, 0));
      try (TestServer.Client c = server.connect(null, null)) {
        c.subscribe("s", job.getInteger("num"), "loss");
        c.nextType("loss", 60); // the trainer is stepping, so its model is live
        for (int i = 0; i < FLOOD; i++) {
          c.send(
              TestServer.message("decode", "d" + i, job.getInteger("num"))
                  .put("plane", new JsonArray().add(0.1 * i).add(-0.2)));
        }
        List<JsonObject> replies = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        while (replies.size() < FLOOD) {
          JsonObject m = c.next(x -> x.getString("id", "").startsWith("d"), 60);
          assertTrue(ids.add(m.getString("id")), "one answer per request: " + m.getString("id"));
          replies.add(m);
        }
        return replies;
      } finally {
        server.stopJob(job.getString("id"));
      }
    }
  }

  @Test
  void aGenerousBudgetFromTheServerConfigServesTheWholeFlood(@TempDir Path root) throws Exception {
    // The trainer's own defaults queue 32 requests at most: 60 at once would meet busy unless the
    // server's keys
    // reach the trainer.
    for (JsonObject m :
        flood(
            root,
            new JsonObject()
                .put("interactiveMaxQueued", 1000)
                .put("interactiveBudgetMsPerSecond", 1000)
                .put("interactiveClientMsPerSecond", 1000))) {
      assertEquals("decoded", m.getString("type"), m.encode());
    }
  }

  @Test
  void aDecodeFloodPastTheTrainersBudgetGetsBusyWithARetryHintAndEveryRequestIsAnswered(
      @TempDir Path root) throws Exception {
    int busy = 0;
    int fromTrainer = 0;
    java.util.regex.Pattern said = java.util.regex.Pattern.compile("retry in (\\d+) ms");
    for (JsonObject m :
        flood(
            root,
            new JsonObject()
                .put("interactiveMaxQueued", 1)
                .put("interactiveBudgetMsPerSecond", 1))) {
      if ("error".equals(m.getString("type"))) {
        assertEquals("busy", m.getString("code"), m.encode());
        assertTrue(m.getLong("retryAfterMs") > 0, "a retry hint: " + m.encode());
        assertFalse(
            m.getString("message").contains("{"),
            "a sentence, not the bus's wire form: " + m.encode());
        java.util.regex.Matcher figure = said.matcher(m.getString("message"));
        if (figure.find()) {
          // The trainer's refusal: the hint is the trainer's own figure, not a fixed one.
          assertEquals(Long.parseLong(figure.group(1)), m.getLong("retryAfterMs"), m.encode());
          fromTrainer++;
        }
        busy++;
      } else {
        assertEquals("decoded", m.getString("type"), m.encode());
      }
    }
    assertTrue(busy > 0, "a flood past a 1 ms/s budget and a queue of one meets busy");
    assertTrue(fromTrainer > 0, "some refusals come from the trainer's budget");
    assertTrue(busy < FLOOD, "the budget still serves some requests");
  }

  @Test
  void aClientThatSpentItsShareOfTheTrainerHearsBusyWhileAnotherClientIsStillServed(
      @TempDir Path root) throws Exception {
    try (TestServer server =
        new TestServer(
            root,
            new JsonObject()
                .put("interactiveClientMsPerSecond", 1)
                .put("interactiveBudgetMsPerSecond", 1000))) {
      JsonObject job = server.startJob(server.spec(1000, 0));
      int num = job.getInteger("num");
      try (TestServer.Client greedy = server.connect(null, null);
          TestServer.Client other = server.connect(null, null)) {
        greedy.subscribe("s", num, "loss");
        greedy.nextType("loss", 60);
        // 256 points cost the trainer far more than the 1 ms a second this client is given.
        JsonArray points = new JsonArray();
        for (int i = 0; i < 256; i++) {
          points.add(new JsonArray().add(0.01 * i).add(-0.01 * i));
        }
        JsonObject first =
            greedy.ask(TestServer.message("decode", "d1", num).put("plane", points), 60);
        assertEquals(
            "decoded",
            first.getString("type"),
            () -> first.encode().substring(0, Math.min(200, first.encode().length())));
        assertFalse(
            first.getJsonObject("result").containsKey("trainerMs"),
            "the trainer's cost stays between the nodes");
        assertEquals(256, first.getJsonObject("result").getJsonArray("images").size());

        JsonObject second =
            greedy.ask(TestServer.message("decode", "d2", num).put("plane", points), 60);
        assertEquals("busy", second.getString("code"), second.encode());
        assertTrue(
            second
                .getString("message")
                .startsWith("your share of the trainer's time (1 ms per second)"),
            second.encode());
        assertTrue(
            second.getLong("retryAfterMs") > 1,
            "the hint covers what the big request cost: " + second.encode());

        JsonObject served =
            other.ask(
                TestServer.message("decode", "o1", num)
                    .put("plane", new JsonArray().add(0.5).add(-0.5)),
                60);
        assertEquals("decoded", served.getString("type"), served.encode());
      } finally {
        server.stopJob(job.getString("id"));
      }
    }
  }

  @Test
  void aBurstOfBigRequestsIsChargedUpFrontSoOnlyTheFirstReachesTheTrainer(@TempDir Path root)
      throws Exception {
    try (TestServer server =
        new TestServer(root, new JsonObject().put("interactiveBudgetMsPerSecond", 1000))) {
      JsonObject job = server.startJob(server.spec(1000, 0));
      int num = job.getInteger("num");
      try (TestServer.Client c = server.connect(null, null)) {
        c.subscribe("s", num, "loss");
        c.nextType("loss", 60);
        JsonArray points = new JsonArray();
        for (int i = 0; i < 256; i++) {
          points.add(new JsonArray().add(0.01 * i).add(0.02 * i));
        }
        // Four at once, within the four a client may have in flight: without an up-front charge all
        // four would
        // reach the trainer before the first reply said what one costs.
        for (int i = 0; i < 4; i++) {
          c.send(TestServer.message("decode", "b" + i, num).put("plane", points));
        }
        int decoded = 0;
        int share = 0;
        for (int i = 0; i < 4; i++) {
          // Replies come in any order (the refusals at once, the decode when the trainer has run
          // it).
          JsonObject m = c.next(x -> x.getString("id", "").startsWith("b"), 60);
          if ("decoded".equals(m.getString("type"))) {
            decoded++;
          } else if ("busy".equals(m.getString("code"))
              && m.getString("message").startsWith("your share")) {
            share++;
          }
        }
        assertEquals(1, decoded, "the first of the burst is served");
        assertEquals(3, share, "the rest wait for the client's share of the trainer");
      } finally {
        server.stopJob(job.getString("id"));
      }
    }
  }
}
