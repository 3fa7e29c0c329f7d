package dev.latentstream.stream;

import static dev.latentstream.stream.HubOnOneContext.ID;
import static dev.latentstream.stream.HubOnOneContext.awaitUntil;
import static dev.latentstream.stream.HubOnOneContext.running;
import static dev.latentstream.stream.HubOnOneContext.writeRows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.config.ServerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new run of a job whose steps reach a hub before its status (on a cluster the new owner's status
 * and its steps travel on different sending contexts, so the event bus may reorder them): a viewer
 * gets each step once, live points never going back, and a fresh history with no gap.
 */
class NewRunStepsTest {

  @TempDir Path root;
  private HubOnOneContext hub;

  @BeforeEach
  void startHub() throws Exception {
    hub =
        HubOnOneContext.start(
            ServerConfig.fromJson(
                new JsonObject()
                    .put("port", 0)
                    .put("token", "new-run-steps")
                    .put("runsDir", root.resolve("runs").toString())
                    .put("lossBatchMs", 10),
                "test"));
    hub.publish(new TrainerEvent.Status(1, running(0, -1, "node-a")));
    hub.attachViewer();
  }

  @AfterEach
  void stop() throws Exception {
    hub.close();
  }

  @Test
  void stepsOfANewRunBeforeItsStatusStartAFreshHistoryAndAreNeverSentLiveAfterTheOldRun()
      throws Exception {
    Path runDir = Files.createDirectories(root.resolve("runs").resolve(ID));
    // Node A trains 1..192 and dies; node B takes over from the step-120 checkpoint, rewrites
    // metrics.csv up to it, and has written 121..124 of its own rows (later ones still buffered).
    writeRows(runDir, 0, 192);
    writeRows(runDir, 120, 124);
    hub.steps(1, 192);
    awaitUntil(() -> hub.viewer.lastLive() == 192, "the old run's live points", 10);
    hub.steps(121, 128); // node B's first steps, before its status
    Thread.sleep(200); // a few loss batches go by
    hub.publish(new TrainerEvent.Status(1, running(1, 120, "node-b")));
    hub.steps(129, 140);
    awaitUntil(() -> hub.viewer.lastStep() == 140, "the new run's step 140", 10);

    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
    assertEquals(2, hub.viewer.histories(), "a fresh history for the new run");
    JsonObject fresh = hub.viewer.lastHistory();
    assertEquals(1L, fresh.getJsonObject("columns").getJsonArray("step").getLong(0));
  }

  @Test
  void aStaleUnreachableMarkOfTheOldRunStartsNoNewStream() throws Exception {
    Path runDir = Files.createDirectories(root.resolve("runs").resolve(ID));
    writeRows(runDir, 0, 20);
    hub.publish(new TrainerEvent.Status(1, running(1, 0, "node-b"))); // node B took the job over
    hub.steps(1, 20);
    awaitUntil(() -> hub.viewer.lastStep() == 20, "the new run's step 20", 10);
    long before = hub.viewer.histories();
    // The gateway's watch marks node A's last status unreachable after node B's came in.
    hub.publish(
        new TrainerEvent.Status(
            1, running(0, -1, "node-a").put("status", "unreachable").put("error", "silent")));
    hub.steps(21, 40);
    awaitUntil(() -> hub.viewer.lastLive() == 40, "live points after the stale mark", 10);

    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
    assertEquals(
        before, hub.viewer.histories(), "the stale mark starts no new stream and no new history");
  }

  /** Problems in what the viewer received, as the page draws it (see LossContinuity). */
  private List<String> problems() {
    List<String> out = new ArrayList<>();
    long last = -1;
    for (JsonObject m : hub.viewer.received()) {
      String type = m.getString("type", "");
      if (!type.equals("history") && !type.equals("loss")) {
        continue;
      }
      JsonArray steps = m.getJsonObject("columns").getJsonArray("step");
      if (type.equals("history")) {
        last = 0;
      } else if (last < 0) {
        out.add("loss before any history");
      }
      for (int i = 0; i < steps.size(); i++) {
        long s = steps.getLong(i);
        if (s != last + 1) {
          out.add((s > last + 1 ? "gap: " : "repeat: ") + type + " step " + s + " after " + last);
        }
        last = Math.max(last, s);
      }
    }
    return out;
  }
}
