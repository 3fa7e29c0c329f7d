package dev.latentstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latentstream serve} as a real process: a port in use, and a graceful shutdown followed by
 * a restart.
 */
class ServeProcessTest {

  static final int TRAIN = 1024;
  static final int BATCH = 32;
  static final int STEPS_PER_EPOCH = TRAIN / BATCH;

  /**
   * Enough that a SIGTERM after epoch 1 always lands mid-run: the tiny job's steps take well under
   * a millisecond.
   */
  static final int EPOCHS = 40;

  @Test
  void aPortInUseIsOneLineNamingThePortAndHowToPickAnotherWithExitCode2(@TempDir Path root)
      throws Exception {
    OpsFixture f = new OpsFixture(root, 64, 32, 1, 16);
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        ServeProcess p =
            ServeProcess.start(
                root,
                "serve",
                "--no-job",
                "--config",
                f.configFile.toString(),
                "--port",
                Integer.toString(taken.getLocalPort()))) {
      assertTrue(p.process.waitFor(90, TimeUnit.SECONDS), "serve did not exit");
      p.awaitEnd(10);
      assertEquals(2, p.process.exitValue(), () -> "stdout " + p.out() + " stderr " + p.err());
      List<String> err = p.err();
      assertEquals(1, err.size(), () -> "stderr: " + err);
      String line = err.getFirst();
      assertTrue(
          line.contains("port " + taken.getLocalPort())
              && line.contains("--port 0")
              && line.contains("LATENTSTREAM_PORT"),
          line);
      assertFalse(String.join("\n", p.out()).contains("Exception"), () -> "stdout: " + p.out());
    }
  }

  @Test
  void sigtermMidEpochExits0Within10sAndTheNextServeResumesAtTheInterruptedStepWithoutGapOrRepeat(
      @TempDir Path root) throws Exception {
    OpsFixture f = new OpsFixture(root, TRAIN, BATCH, EPOCHS, 32);
    HttpClient http = HttpClient.newHttpClient();
    Path runDir;
    try (ServeProcess first =
        ServeProcess.start(
            root, "serve", "--config", f.configFile.toString(), "--job", f.jobFile().toString())) {
      int port = first.port();
      CompletableFuture<String> closed = new CompletableFuture<>();
      http.newWebSocketBuilder()
          .buildAsync(
              URI.create("ws://127.0.0.1:" + port + "/ws"),
              new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                  closed.complete(statusCode + " " + reason);
                  return null;
                }
              })
          .get(10, TimeUnit.SECONDS);
      first.awaitLine(l -> l.contains("epoch 1/" + EPOCHS + ":"), 180);
      awaitStep(http, port, STEPS_PER_EPOCH + 5, 60);

      long t0 = System.nanoTime();
      // SIGTERM; Process.destroy() would also close the pipes and lose what the server says while
      // it stops.
      first.process.toHandle().destroy();
      assertTrue(
          first.process.waitFor(10, TimeUnit.SECONDS), "serve did not exit within 10 s of SIGTERM");
      double seconds = (System.nanoTime() - t0) / 1e9;
      first.awaitEnd(10);
      assertEquals(
          0, first.process.exitValue(), () -> "stdout " + first.out() + " stderr " + first.err());
      String said = first.awaitLine(l -> l.contains("stopped in"), 5);
      first.awaitLine(l -> l.contains("interrupted by shutdown at step"), 1);
      // Every message of the stop reaches a consumer: none is discarded for a consumer gone first.
      assertEquals(
          List.of(),
          Stream.concat(first.out().stream(), first.err().stream())
              .filter(l -> l.contains("Discarding message"))
              .toList(),
          "a clean shutdown logs no discarded message");
      System.out.printf(
          "shutdown on SIGTERM mid-epoch: %.2f s until exit; the server: %s%n", seconds, said);
      assertEquals("1001 server shutting down", closed.get(1, TimeUnit.SECONDS));
      try (Stream<Path> runs = Files.list(f.runsDir)) {
        runDir = runs.filter(Files::isDirectory).findFirst().orElseThrow();
      }
      JsonObject status = new JsonObject(Files.readString(runDir.resolve("status.json")));
      assertEquals("interrupted", status.getString("status"));
    }
    long stoppedAt = steps(runDir).getLast();
    System.out.printf(
        "the shutdown stopped the job after step %d: epoch %d, batch %d of %d%n",
        stoppedAt,
        (stoppedAt - 1) / STEPS_PER_EPOCH + 1,
        (stoppedAt - 1) % STEPS_PER_EPOCH + 1,
        STEPS_PER_EPOCH);

    try (ServeProcess second =
        ServeProcess.start(
            root,
            "serve",
            "--no-job",
            "--log-format",
            "json",
            "--config",
            f.configFile.toString())) {
      String started =
          second.awaitLine(
              l -> l.contains("\"event\":\"started\"") && l.contains("continuing from step"), 90);
      Matcher from = Pattern.compile("continuing from step (\\d+)").matcher(started);
      assertTrue(from.find(), started);
      // The shutdown checkpointed the job at the step it stopped after, mid-epoch: nothing is
      // trained twice.
      assertEquals(stoppedAt, Long.parseLong(from.group(1)), started);
      second.awaitLine(l -> l.contains("\"event\":\"finished\""), 240);
      second.process.toHandle().destroy();
      assertTrue(
          second.process.waitFor(10, TimeUnit.SECONDS), "an idle serve did not exit within 10 s");
      assertEquals(0, second.process.exitValue());
      second.awaitEnd(10);
      // --log-format json: every line of stdout is one JSON object; the epochs carry their figures
      // as fields.
      List<JsonObject> lines = second.out().stream().map(JsonObject::new).toList();
      List<JsonObject> epochs =
          lines.stream().filter(o -> "epoch".equals(o.getString("event"))).toList();
      assertFalse(epochs.isEmpty(), "epoch lines");
      for (JsonObject e : epochs) {
        assertEquals(EPOCHS, e.getInteger("epochs"));
        assertTrue(
            e.getDouble("testLoss") > 0
                && e.getDouble("seconds") > 0
                // The epoch the resume began in may hold one step: no rate over one step.
                && (e.getLong("imagesPerSecond") != null
                    ? e.getLong("imagesPerSecond") > 0
                    : e.getInteger("epoch") == stoppedAt / STEPS_PER_EPOCH + 1),
            e::encode);
        assertTrue(e.getString("job").startsWith("tiny-"), e::encode);
      }
    }
    assertEquals(
        java.util.stream.LongStream.rangeClosed(1, (long) EPOCHS * STEPS_PER_EPOCH)
            .boxed()
            .toList(),
        steps(runDir),
        "every step exactly once, in order");
    assertEquals(
        "completed",
        new JsonObject(Files.readString(runDir.resolve("status.json"))).getString("status"));
  }

  @Test
  void aSecondSignalDuringTheShutdownQuitsAtOnceWith130(@TempDir Path root) throws Exception {
    OpsFixture f = new OpsFixture(root, TRAIN, BATCH, EPOCHS, 32);
    try (ServeProcess serve =
        ServeProcess.start(
            root, "serve", "--config", f.configFile.toString(), "--job", f.jobFile().toString())) {
      serve.awaitLine(l -> l.contains("epoch 1/" + EPOCHS + ":"), 180);
      serve.process.toHandle().destroy(); // SIGTERM: the graceful shutdown begins
      serve.awaitLine(l -> l.contains("SIGTERM: shutting down"), 10);
      // The shutdown stops the job after its step, checkpoints it and closes the sockets: a second
      // or so,
      // into which the second signal lands.
      serve.process.toHandle().destroy();
      assertTrue(
          serve.process.waitFor(10, TimeUnit.SECONDS),
          "serve did not quit after the second signal");
      serve.awaitEnd(10);
      assertEquals(
          130, serve.process.exitValue(), () -> "stdout " + serve.out() + " stderr " + serve.err());
      assertTrue(
          serve.err().contains("latentstream: second SIGTERM, quitting without waiting"),
          serve.err()::toString);
      assertFalse(
          String.join("\n", serve.out()).contains("stopped in")
              || String.join("\n", serve.err()).contains("stopped in"),
          "it did not wait for the graceful end");
    }
  }

  /** The {@code step} column of the run's metrics.csv. */
  private static List<Long> steps(Path runDir) throws java.io.IOException {
    List<String> rows = Files.readAllLines(runDir.resolve("metrics.csv"));
    return rows.subList(1, rows.size()).stream()
        .filter(r -> !r.isBlank())
        .map(r -> Long.parseLong(r.substring(0, r.indexOf(','))))
        .toList();
  }

  /** Polls {@code /metrics} until the job's step gauge reaches {@code step}. */
  private static void awaitStep(HttpClient http, int port, int step, long seconds)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String body =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      var samples = PrometheusText.parse(body).named("latentstream_job_step");
      if (!samples.isEmpty() && samples.getFirst().value() >= step) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "step " + step + " not reached; " + samples);
      TimeUnit.MILLISECONDS.sleep(20); // polling a condition, with a deadline
    }
  }
}
