package dev.latentstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.bus.TrainerEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator's log: one line per job event, readable as text and as one JSON object per line. */
class JobLogTest {

  final List<LogRecord> records = new ArrayList<>();
  final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  Vertx vertx;
  JobWatch watch;

  @BeforeEach
  void watch() {
    Logger.getLogger(JobWatch.LOGGER).addHandler(capture);
    vertx = Vertx.vertx();
    watch = new JobWatch(vertx, new SimpleMeterRegistry());
  }

  @AfterEach
  void close() {
    Logger.getLogger(JobWatch.LOGGER).removeHandler(capture);
    vertx.close();
  }

  static JsonObject job(String status) {
    return new JsonObject()
        .put("id", "vae-fashion-1")
        .put("num", 7)
        .put("status", status)
        .put("model", "vae")
        .put("dataset", "fashion-mnist")
        .put("epochs", 10)
        .put("step", 0)
        .put("epoch", 0)
        .put("spec", new JsonObject().put("batchSize", 100));
  }

  /**
   * A job queued, started, trained an epoch of 10 steps at 2 steps/s, paused, resumed, then failed.
   */
  void runALife() {
    watch.onEvent(new TrainerEvent.Status(7, job("queued")));
    watch.onEvent(new TrainerEvent.Status(7, job("running")));
    // The run, set up, says which engine it computes with: the started line waits for it.
    watch.onEvent(new TrainerEvent.Status(7, job("running").put("engine", "native")));
    for (int s = 1; s <= 10; s++) {
      watch.onEvent(
          new TrainerEvent.Step(
              7, s, 1, 1_000_000L + s * 500L, Map.of("loss", 300.0 - s, "kl", 10.0)));
    }
    watch.onEvent(
        new TrainerEvent.Epoch(
            7,
            new dev.latentstream.wire.EpochResult(1, 10, Map.of("loss", 290.0), 280.25, 5.5, 0.5)));
    watch.onEvent(new TrainerEvent.Status(7, job("paused").put("step", 10).put("epoch", 1)));
    watch.onEvent(
        new TrainerEvent.Status(
            7, job("running").put("step", 10).put("epoch", 1).put("engine", "native")));
    watch.onEvent(
        new TrainerEvent.Status(
            7,
            job("failed").put("step", 12).put("epoch", 1).put("error", "loss is NaN at step 12")));
  }

  @Test
  void everyTransitionAndEpochIsOneLineNamingTheJob() {
    runALife();
    List<String> lines = records.stream().map(LogRecord::getMessage).toList();
    assertEquals(
        List.of(
            "job 7 vae-fashion-1 queued: vae on fashion-mnist, 10 epochs",
            "job 7 vae-fashion-1 started: vae on fashion-mnist, 10 epochs, engine native",
            "job 7 vae-fashion-1 epoch 1/10: test loss 280.2500, 5.5 s, 200 images/s",
            "job 7 vae-fashion-1 paused at step 10",
            "job 7 vae-fashion-1 resumed at step 10",
            "job 7 vae-fashion-1 failed at step 12: loss is NaN at step 12"),
        lines);
    assertEquals(Level.SEVERE, records.getLast().getLevel());
  }

  @Test
  void jsonFormatWritesOneObjectPerLineWithTheEpochsFields() {
    runALife();
    var json = LogFormat.json.formatter();
    List<JsonObject> objects = new ArrayList<>();
    for (LogRecord r : records) {
      String line = json.format(r);
      assertTrue(
          line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, "one line: " + line);
      objects.add(new JsonObject(line));
    }
    JsonObject epoch = objects.get(2);
    assertEquals("epoch", epoch.getString("event"));
    assertEquals("vae-fashion-1", epoch.getString("job"));
    assertEquals(7, epoch.getInteger("num"));
    assertEquals(1, epoch.getInteger("epoch"));
    assertEquals(10, epoch.getInteger("epochs"));
    assertEquals(280.25, epoch.getDouble("testLoss"));
    assertEquals(5.5, epoch.getDouble("seconds"));
    assertEquals(200, epoch.getLong("imagesPerSecond"));
    assertEquals("INFO", epoch.getString("level"));
    assertEquals("latentstream.jobs", epoch.getString("logger"));
    assertFalse(epoch.getString("time").isEmpty());
    assertEquals("ERROR", objects.getLast().getString("level"));
    assertEquals("loss is NaN at step 12", objects.getLast().getString("error"));
  }

  @Test
  void aThrowableStaysOnOneJsonLine() {
    LogRecord r = new LogRecord(Level.WARNING, "boom");
    r.setLoggerName("x");
    r.setThrown(new IllegalStateException("bad\nstate"));
    String line = LogFormat.json.formatter().format(r);
    assertEquals(1, line.lines().count());
    JsonObject o = new JsonObject(line);
    assertEquals("WARN", o.getString("level"));
    assertTrue(o.getString("stack").contains("IllegalStateException"));
  }

  @Test
  void textFormatIsTimeLevelMessage() {
    LogRecord r =
        new LogRecord(Level.INFO, "job 1 x epoch 1/2: test loss 1.0000, 1.0 s, 5 images/s");
    r.setMillis(0);
    assertEquals(
        "1970-01-01T00:00:00Z INFO  job 1 x epoch 1/2: test loss 1.0000, 1.0 s, 5 images/s\n",
        LogFormat.text.formatter().format(r));
  }
}
