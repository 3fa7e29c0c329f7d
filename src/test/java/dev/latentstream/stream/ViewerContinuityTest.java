package dev.latentstream.stream;

import static dev.latentstream.stream.HubOnOneContext.ID;
import static dev.latentstream.stream.HubOnOneContext.awaitUntil;
import static dev.latentstream.stream.HubOnOneContext.running;
import static dev.latentstream.stream.HubOnOneContext.writeRows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.config.ServerConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway without the trainers' disk, a viewer of job 1, and two trainer nodes faked on the event
 * bus: A trains the job and is then cut off (it never answers again), B takes the job over from its
 * step-40 checkpoint and serves the run's files. Whatever reaches the gateway, the viewer's loss
 * chart never has a gap or a repeat, and its history ends up holding the run's past.
 */
class ViewerContinuityTest {

  @TempDir Path root;
  private HubOnOneContext hub;

  /** Node B's run directory (the gateway has none). */
  private Path bDisk;

  private final AtomicInteger askedA = new AtomicInteger();
  private final AtomicInteger askedB = new AtomicInteger();

  /** How many of B's first chunk requests fail (a disk hiccup, a node still starting). */
  private volatile int bFailsFirst;

  @BeforeEach
  void startHub() throws Exception {
    hub =
        HubOnOneContext.start(
            ServerConfig.fromJson(
                new JsonObject()
                    .put("port", 0)
                    .put("token", "viewer-continuity")
                    .put("role", "gateway")
                    .put(
                        "runsDir", Files.createDirectories(root.resolve("gateway-runs")).toString())
                    .put("lossBatchMs", 10),
                "test"));
    bDisk = Files.createDirectories(root.resolve("b-runs").resolve(ID));
    hub.vertx
        .eventBus()
        .<TrainerCommand>consumer(Addresses.toTrainer("node-a"), m -> askedA.incrementAndGet());
    hub.vertx.eventBus().<TrainerCommand>consumer(Addresses.toTrainer("node-b"), this::serveFromB);
    beat("a", true);
    beat("b", false); // alive, owning nothing yet
    hub.publish(new TrainerEvent.Status(1, job(0, -1, "a")));
    hub.attachViewer();
  }

  @AfterEach
  void stop() throws Exception {
    hub.close();
  }

  @Test
  void theTakersPastIsReadFromTheTakerWhileTheOldOwnersHeartbeatStillNamesTheJob()
      throws Exception {
    failOverToB();

    // B's heartbeat has not named the job: only its status says it owns it now.
    awaitUntil(
        () -> hub.viewer.lastStep() == 60 && lastHistoryFirstStep() == 1, "the past from B", 5);
    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
    assertEquals(0, askedA.get(), "the cut-off node is not asked");
  }

  @Test
  void livePointsAfterAGapGoOutInAFreshHistoryInsteadOfLive() throws Exception {
    hub.steps(1, 10);
    awaitUntil(() -> hub.viewer.lastStep() == 10, "steps 1..10", 10);
    hub.steps(14, 20); // 11..13 were lost on the way (a partition)
    awaitUntil(() -> hub.viewer.lastStep() == 20, "steps up to 20", 10);
    hub.steps(21, 25);
    awaitUntil(() -> hub.viewer.lastStep() == 25, "steps up to 25", 10);

    assertEquals(List.of(), problems(), "the viewer's chart has no gap: the gap is in its history");
    assertEquals(2, hub.viewer.histories(), "a fresh history when the gap came");
    JsonArray fresh = hub.viewer.lastHistory().getJsonObject("columns").getJsonArray("step");
    assertEquals(10L, fresh.getLong(9));
    assertEquals(14L, fresh.getLong(10));
  }

  @Test
  void aPastThatCannotBeReadAtFirstReachesTheViewerInAFreshHistoryOnceItCan() throws Exception {
    beat("b", true); // routing is right; B fails its first requests
    bFailsFirst = 3;
    failOverToB();

    awaitUntil(() -> hub.viewer.lastStep() == 60, "the new run's step 60", 10);
    awaitUntil(
        () -> lastHistoryFirstStep() == 1,
        "a fresh history with the past",
        HistoryLoader.PAST_RETRY_MS / 1000 + 10);
    assertTrue(hub.viewer.histories() >= 3, "the first history, one without the past, one with it");
    assertEquals(List.of(), problems(), "no step repeated, missing or out of order");
  }

  /**
   * A trains 1..50 and is cut off; B takes the job over from its step-40 checkpoint, rewrites
   * metrics.csv up to it, and trains 41..60 (writing its rows as it goes).
   */
  private void failOverToB() throws Exception {
    writeRows(bDisk, 0, 45);
    hub.steps(1, 50);
    awaitUntil(() -> hub.viewer.lastStep() == 50, "A's steps", 10);
    hub.publish(new TrainerEvent.Status(1, job(1, 40, "b")));
    hub.steps(41, 60);
  }

  private void serveFromB(io.vertx.core.eventbus.Message<TrainerCommand> m) {
    if (askedB.incrementAndGet() <= bFailsFirst) {
      m.fail(500, "cannot read the run directory just now");
      return;
    }
    TrainerCommand.ReadRunFile f = (TrainerCommand.ReadRunFile) m.body();
    try {
      Path file = bDisk.resolve(f.name());
      if (!Files.isRegularFile(file)) {
        m.fail(404, "no " + f.name());
        return;
      }
      byte[] all = Files.readAllBytes(file);
      int from = (int) Math.min(f.offset(), all.length);
      int to = (int) Math.min(all.length, f.offset() + f.length());
      m.reply(
          new JsonObject().put("size", all.length).put("bytes", Arrays.copyOfRange(all, from, to)));
    } catch (java.io.IOException e) {
      m.fail(500, e.getMessage());
    }
  }

  /** Node {@code n}'s heartbeat, naming job 1 or nothing. */
  private void beat(String n, boolean ownsTheJob) {
    hub.onContext(
        () -> {
          hub.vertx
              .eventBus()
              .publish(
                  Addresses.FROM_TRAINER_HEARTBEAT,
                  new JsonObject()
                      .put("node", "node-" + n)
                      .put("name", "host-" + n + ":5701")
                      .put("jobs", ownsTheJob ? new JsonArray().add(1) : new JsonArray())
                      .put("ids", ownsTheJob ? new JsonArray().add(ID) : new JsonArray())
                      .put("failovers", ownsTheJob ? new JsonArray().add(0) : new JsonArray()));
          return null;
        });
  }

  /** Job 1's status as node {@code n} runs it. */
  private static JsonObject job(int failovers, long resumedAtStep, String n) {
    return running(failovers, resumedAtStep, "host-" + n + ":5701");
  }

  /** What the viewer received, as the page draws it (the rules of server.LossContinuity). */
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
        for (int i = 1; i < steps.size(); i++) {
          if (steps.getLong(i) <= steps.getLong(i - 1)) {
            out.add("history steps not rising at " + steps.getLong(i));
          }
        }
        last = steps.isEmpty() ? 0 : steps.getLong(steps.size() - 1);
        continue;
      }
      if (last < 0) {
        out.add("loss before any history");
      }
      for (int i = 0; i < steps.size(); i++) {
        long s = steps.getLong(i);
        if (s != last + 1) {
          out.add((s > last + 1 ? "gap: " : "repeat: ") + "step " + s + " after " + last);
        }
        last = Math.max(last, s);
      }
    }
    return out;
  }

  private long lastHistoryFirstStep() {
    JsonArray steps = hub.viewer.lastHistory().getJsonObject("columns").getJsonArray("step");
    return steps.isEmpty() ? -1 : steps.getLong(0);
  }
}
