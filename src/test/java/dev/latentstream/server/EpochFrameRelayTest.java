package dev.latentstream.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.runformat.RunLayout;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A gateway node that shares no disk with the trainer node relays the trainer's epoch frames (the
 * {@code <kind>-<epoch>.png} a run keeps at each epoch's end) to a viewer: over the WebSocket as
 * the latest frames of a run it never saw live, in the frame index, and over REST for a step whose
 * frame it does not keep. Two real JVMs ({@link ClusterNodes}); the trainer runs in a directory of
 * its own, so its relative {@code runs/} is nowhere the gateway looks.
 *
 * <p>The machine may be loaded (a full build, other JVMs): every wait is for the thing itself (a
 * log line, the run's {@code status.json}, a message), with deadlines of minutes, never a fixed
 * sleep.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class EpochFrameRelayTest {

  static final int EPOCHS = 3;

  /** Frames a gateway keeps per stream: fewer than the epochs, so epoch 1 must come from disk. */
  static final int KEPT = 2;

  @Test
  void aGatewayWithoutTheTrainersDiskRelaysItsEpochFramesToAViewer() throws Exception {
    try (ClusterNodes nodes = new ClusterNodes("epoch-frame-relay-test", 2)) {
      nodes.syntheticJob("relay-vae", EPOCHS, new JsonObject());
      Path trainerHome = nodes.dir.resolve("trainer-home");
      nodes.start("trainer", "trainer", nodes.clusterPorts[0], trainerHome, Map.of());
      nodes.awaitLog("trainer", "trainer node is up", 600);
      Path run = awaitCompletedRun(nodes, trainerHome.resolve("runs"), 900);
      Map<FrameKind, byte[]> lastEpoch = new EnumMap<>(FrameKind.class);
      for (FrameKind kind : FrameKind.values()) {
        for (int epoch = 1; epoch <= EPOCHS; epoch++) {
          assertTrue(
              Files.isRegularFile(run.resolve(RunLayout.frameFile(kind, epoch))),
              "the trainer kept " + RunLayout.frameFile(kind, epoch));
        }
        lastEpoch.put(kind, Files.readAllBytes(run.resolve(RunLayout.frameFile(kind, EPOCHS))));
      }

      Path ownRuns = Files.createDirectories(nodes.dir.resolve("gateway-own-runs"));
      int http = ClusterNodes.freePort();
      nodes.start(
          "gateway",
          "gateway",
          nodes.clusterPorts[1],
          Map.of(
              "LATENTSTREAM_RUNS_DIR", ownRuns.toString(),
              "LATENTSTREAM_FRAME_HISTORY", Integer.toString(KEPT)),
          "--port",
          Integer.toString(http));
      nodes.awaitLog("gateway", "serving at", 600);

      try (ClusterTest.Client viewer = ClusterTest.Client.open(http)) {
        JsonObject job = completedJob(viewer, 300);
        int num = job.getInteger("num");
        String id = job.getString("id");
        assertEquals(run.getFileName().toString(), id, "the gateway lists the trainer's run");
        viewer.send(new JsonObject().put("type", "subscribe").put("id", "s").put("job", num));
        JsonObject history = viewer.nextType("history", 300);
        JsonArray steps = history.getJsonObject("columns").getJsonArray("step");
        long lastStep = steps.getLong(steps.size() - 1);
        assertTrue(
            !steps.isEmpty() && steps.getLong(0) <= 2,
            "the history from the trainer's metrics.csv, from its first step: " + steps.size());

        Map<FrameKind, ByteBuffer> frames = new EnumMap<>(FrameKind.class);
        while (frames.size() < FrameKind.values().length) {
          ByteBuffer b = nextFrame(viewer, 300);
          frames.put(FrameHeader.read(b).kind(), b);
        }
        for (FrameKind kind : FrameKind.values()) {
          ByteBuffer b = frames.get(kind);
          FrameHeader h = FrameHeader.read(b);
          assertEquals(EPOCHS, h.epoch(), kind + ": the last epoch's frame");
          assertEquals(lastStep, h.step(), kind + ": at the run's last step");
          assertEquals(FrameHeader.FORMAT_PNG, h.format(), kind + ": the PNG the trainer wrote");
          byte[] png = new byte[b.remaining() - FrameHeader.BYTES];
          b.get(FrameHeader.BYTES, png);
          assertArrayEquals(lastEpoch.get(kind), png, kind + ": the trainer's own bytes");
        }

        JsonObject index =
            new JsonObject(new String(get(http, "/api/jobs/" + id + "/frames").body(), UTF_8));
        for (FrameKind kind : FrameKind.values()) {
          assertEquals(
              KEPT, index.getJsonArray(kind.wireName()).size(), kind + " frames kept: " + index);
        }

        long perEpoch = job.getLong("batchesPerEpoch");
        HttpResponse<byte[]> first =
            get(http, "/api/jobs/" + id + "/frames/latent.png?step=" + perEpoch);
        assertEquals(200, first.statusCode(), new String(first.body(), UTF_8));
        assertEquals("epoch", first.headers().firstValue("X-Frame-Source").orElse(""));
        assertEquals("1", first.headers().firstValue("X-Epoch").orElse(""));
        assertArrayEquals(
            Files.readAllBytes(run.resolve(RunLayout.frameFile(FrameKind.LATENT, 1))),
            first.body(),
            "epoch 1's latent frame, read from the trainer node");
      }
      try (Stream<Path> written = Files.list(ownRuns)) {
        assertEquals(0, written.count(), "nothing was written to the gateway's own disk");
      }
      assertTrue(
          Files.notExists(nodes.dir.resolve("runs")),
          "the gateway's working directory has no runs/ to read the run from");
    }
  }

  /**
   * The trainer's run directory once its {@code status.json} says {@code completed}: the run's
   * files are all written by then. Fails early with the trainer's log if the trainer exits.
   */
  static Path awaitCompletedRun(ClusterNodes nodes, Path runs, int seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end && nodes.process("trainer").isAlive()) {
      if (Files.isDirectory(runs)) {
        try (Stream<Path> dirs = Files.list(runs)) {
          for (Path d : dirs.toList()) {
            Path status = d.resolve("status.json");
            // status.json is replaced whole (written aside, then renamed), so a read sees one.
            if (Files.isRegularFile(status)
                && "completed"
                    .equals(new JsonObject(Files.readString(status)).getString("status"))) {
              return d;
            }
          }
        }
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new AssertionError(
        "no completed run in "
            + runs
            + " within "
            + seconds
            + " s:\n"
            + Files.readString(nodes.log("trainer")));
  }

  /** The job from the welcome or the first status that shows it completed. */
  static JsonObject completedJob(ClusterTest.Client viewer, int seconds) throws Exception {
    JsonObject[] found = new JsonObject[1];
    viewer.next(
        m -> {
          Stream<JsonObject> jobs =
              switch (String.valueOf(m.getString("type"))) {
                case "welcome" -> m.getJsonArray("jobs").stream().map(JsonObject.class::cast);
                case "status" -> Stream.of(m.getJsonObject("job"));
                default -> Stream.empty();
              };
          found[0] =
              jobs.filter(j -> "completed".equals(j.getString("status"))).findFirst().orElse(null);
          return found[0] != null;
        },
        seconds);
    return found[0];
  }

  static ByteBuffer nextFrame(ClusterTest.Client viewer, int seconds) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      Object o = viewer.received.poll(1, TimeUnit.SECONDS);
      if (o instanceof ByteBuffer b) {
        return b;
      }
    }
    throw new AssertionError("no frame within " + seconds + " s");
  }

  static HttpResponse<byte[]> get(int port, String path) throws Exception {
    return ClusterNodes.HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(java.time.Duration.ofMinutes(2))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }
}
