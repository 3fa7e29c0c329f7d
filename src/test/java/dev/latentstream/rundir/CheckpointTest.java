package dev.latentstream.rundir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Synthetic;
import dev.latentstream.render.Renderers;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints survive a damaged latest.pt: the previous one is kept and resuming falls back to it. */
class CheckpointTest {

  static final Dataset DATA = Synthetic.generate(256, 64, 9);
  static final JobConfig JOB = JobConfigs.parse("{\"model\":\"vae\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,"
      + "\"epochs\":2,\"frameEverySteps\":0,\"iwaeSamples\":0}", "t", "t");

  static RunStart train(JobConfig job, Path dir, boolean resume) {
    RunStart[] start = new RunStart[1];
    RunSummary s = new Trainer(job, DATA, new Checkpoint(dir), Renderers.best(), new TrainingListener() {
      @Override
      public void onStart(RunStart st) {
        start[0] = st;
      }
    }, resume).run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    return start[0];
  }

  @Test
  void eachSaveKeepsTheCheckpointBeforeItAsPrevious(@TempDir Path dir) {
    train(JOB, dir, false);
    assertTrue(Files.isRegularFile(Checkpoint.file(dir)));
    assertTrue(Files.isRegularFile(Checkpoint.previous(dir)));
    assertEquals(2, Checkpoint.readProgress(dir).epoch());
    assertNull(Checkpoint.readProgress(dir).note());
    assertTrue(Files.notExists(dir.resolve("checkpoint").resolve(Checkpoint.FILE + ".tmp")), "no temporary left");
  }

  @Test
  void aCorruptLatestFallsBackToPreviousAndSaysSo(@TempDir Path dir) throws IOException {
    train(JOB, dir, false);
    Files.write(Checkpoint.file(dir), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 42});
    Checkpoint.Progress p = Checkpoint.readProgress(dir);
    assertEquals(1, p.epoch(), "previous.pt holds epoch 1");
    assertNotNull(p.note());
    assertTrue(p.note().contains("previous.pt") && p.note().contains("latest.pt"), p.note());

    RunStart resumed = train(JOB.withEpochs(3), dir, true);
    assertEquals(1, resumed.startEpoch());
    assertEquals(8, resumed.startStep());
    assertNotNull(resumed.resumeNote(), "the run says it fell back");
    assertTrue(resumed.resumeNote().startsWith("resuming from previous.pt (epoch 1)"), resumed.resumeNote());
    assertEquals(3, Checkpoint.readProgress(dir).epoch());
  }

  @Test
  void aMissingLatestFallsBackToo(@TempDir Path dir) throws IOException {
    train(JOB, dir, false);
    Files.delete(Checkpoint.file(dir));
    assertTrue(Checkpoint.exists(dir));
    assertEquals(1, Checkpoint.readProgress(dir).epoch());
  }

  @Test
  void withNothingLoadableTheErrorNamesLatest(@TempDir Path dir) throws IOException {
    Files.createDirectories(Checkpoint.file(dir).getParent());
    Files.write(Checkpoint.file(dir), new byte[] {1, 2, 3});
    Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class,
        () -> Checkpoint.readProgress(dir));
    assertTrue(e.getMessage().contains("latest.pt") && e.getMessage().contains("not a readable checkpoint"),
        e.getMessage());
  }
}
