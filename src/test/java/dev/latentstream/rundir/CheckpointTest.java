package dev.latentstream.rundir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Synthetic;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import dev.latentstream.render.Renderers;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.OutputArchive;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints survive a damaged latest.pt: the previous one is kept and resuming falls back to it.
 */
class CheckpointTest {

  static final Dataset DATA = Synthetic.generate(256, 64, 9);
  static final JobConfig JOB =
      JobConfigs.parse(
          "{\"model\":\"vae\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,"
              + "\"epochs\":2,\"frameEverySteps\":0,\"iwaeSamples\":0}",
          "t",
          "t");

  static RunStart train(JobConfig job, Path dir, boolean resume) {
    RunStart[] start = new RunStart[1];
    RunSummary s =
        new Trainer(
                job,
                DATA,
                new Checkpoint(dir),
                Renderers.best(),
                new TrainingListener() {
                  @Override
                  public void onStart(RunStart st) {
                    start[0] = st;
                  }
                },
                resume)
            .run();
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
    assertTrue(
        Files.notExists(dir.resolve("checkpoint").resolve(Checkpoint.FILE + ".tmp")),
        "no temporary left");
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
    assertTrue(
        resumed.resumeNote().startsWith("resuming from previous.pt (after epoch 1)"),
        resumed.resumeNote());
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
  void aStopMidEpochIsCheckpointedWithItsPlaceInTheEpoch(@TempDir Path dir) {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    Map<String, Double> sums = new LinkedHashMap<>();
    TrainingListener stopper =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            if (m.epoch() == 2) {
              m.terms().forEach((k, v) -> sums.merge(k, v * 32, Double::sum));
            }
            if (m.step() == 11) {
              trainer.get().stop();
            }
          }
        };
    trainer.set(new Trainer(JOB, DATA, new Checkpoint(dir), Renderers.best(), stopper, false));
    assertEquals(RunSummary.Status.STOPPED, trainer.get().run().status());

    Checkpoint.Progress p = Checkpoint.readProgress(dir);
    assertEquals(11, p.step());
    assertEquals(1, p.epoch(), "one epoch completed");
    assertEquals("in epoch 2, after batch 3", p.where());
    Checkpoint.InEpoch at = p.inEpoch();
    assertEquals(3, at.batches());
    assertEquals(sums, at.sums(), "the per-image sums of the epoch's three batches, exactly");
    assertEquals(
        List.of("recon", "kl", "loss"), List.copyOf(at.sums().keySet()), "in the loss's order");
    assertTrue(at.seconds() > 0);
    assertNotNull(at.generator());
    assertEquals(5056, at.generator().length, "libtorch's CPU generator state");
  }

  @Test
  void aCheckpointOfTheFormatBeforeInEpochPositionsLoadsAsAnEpochBoundary(@TempDir Path dir) {
    train(JOB.withEpochs(1), dir, false);
    // Written as format 2 did: the same keys, and no inEpoch.
    Path old = dir.resolve("old");
    try (Autoencoder model = Checkpoint.loadModel(dir);
        Optim adam = Optimizers.create(JOB.optimizer(), model.parameters(), JOB.lr())) {
      OutputArchive root = new OutputArchive();
      OutputArchive m = new OutputArchive();
      model.save(m);
      root.write("model", m);
      OutputArchive o = new OutputArchive();
      adam.save(o);
      root.write("optim0", o);
      root.write("format", new IValue(2L));
      root.write("epoch", new IValue(1L));
      root.write("step", new IValue(8L));
      root.write("job", new IValue(JobConfigs.toJson(JOB.withEpochs(1))));
      root.write("height", new IValue(28L));
      root.write("width", new IValue(28L));
      Files.createDirectories(Checkpoint.file(old).getParent());
      root.save_to(Checkpoint.file(old).toString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Checkpoint.Progress p = Checkpoint.readProgress(old);
    assertNull(p.inEpoch(), "format 2 checkpoints are taken at epoch ends");
    assertEquals("after epoch 1", p.where());
    RunStart resumed = train(JOB, old, true);
    assertEquals(8, resumed.startStep());
    assertEquals(1, resumed.startEpoch());
    assertEquals(2, Checkpoint.readProgress(old).epoch());
  }

  @Test
  void aDamagedInEpochPositionIsACheckpointErrorNamingTheKey() {
    Checkpoint.CheckpointException e =
        assertThrows(
            Checkpoint.CheckpointException.class,
            () -> Checkpoint.inEpoch("{\"batches\":3}", Path.of("latest.pt")));
    assertTrue(
        e.getMessage().contains("inEpoch") && e.getMessage().contains("latest.pt"), e.getMessage());
    assertThrows(
        Checkpoint.CheckpointException.class,
        () -> Checkpoint.inEpoch("{\"batches\":0,\"sums\":{}}", Path.of("latest.pt")));
  }

  @Test
  void withNothingLoadableTheErrorNamesLatest(@TempDir Path dir) throws IOException {
    Files.createDirectories(Checkpoint.file(dir).getParent());
    Files.write(Checkpoint.file(dir), new byte[] {1, 2, 3});
    Checkpoint.CheckpointException e =
        assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.readProgress(dir));
    assertTrue(
        e.getMessage().contains("latest.pt")
            && e.getMessage().contains("not a readable checkpoint"),
        e.getMessage());
  }

  /**
   * /dev/full answers every write with ENOSPC, as a full disk does: a checkpoint whose temporary
   * file leads there must fail as an exception (libtorch writing it itself aborted the JVM) and
   * leave both checkpoints.
   */
  @Test
  void aFullDiskFailsTheSaveAsAnExceptionAndKeepsBothCheckpoints(@TempDir Path dir)
      throws IOException {
    Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/full")), "needs /dev/full to stand for a full disk");
    train(JOB, dir, false);
    byte[] latest = Files.readAllBytes(Checkpoint.file(dir));
    byte[] previous = Files.readAllBytes(Checkpoint.previous(dir));
    Path tmp = AtomicFile.temporary(Checkpoint.file(dir));
    Files.createSymbolicLink(tmp, Path.of("/dev/full"));

    try (Autoencoder model = Checkpoint.loadModel(dir)) {
      java.io.UncheckedIOException e =
          assertThrows(
              java.io.UncheckedIOException.class,
              () -> Checkpoint.save(dir, model, List.of(), Checkpoint.readProgress(dir)));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "no space left on device: cannot write " + Checkpoint.file(dir) + " (disk "),
          e.getMessage());
    }
    assertArrayEquals(latest, Files.readAllBytes(Checkpoint.file(dir)), "latest.pt untouched");
    assertArrayEquals(
        previous, Files.readAllBytes(Checkpoint.previous(dir)), "previous.pt untouched");
    assertFalse(
        Files.exists(tmp, java.nio.file.LinkOption.NOFOLLOW_LINKS),
        "the temporary file is removed");
  }

  @Test
  void aCheckpointThatCannotBeWrittenFailsTheRunNotTheProcess(@TempDir Path dir)
      throws IOException {
    Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/full")), "needs /dev/full to stand for a full disk");
    Files.createDirectories(Checkpoint.file(dir).getParent());
    Files.createSymbolicLink(AtomicFile.temporary(Checkpoint.file(dir)), Path.of("/dev/full"));
    RunSummary s =
        new Trainer(
                JOB, DATA, new Checkpoint(dir), Renderers.best(), new TrainingListener() {}, false)
            .run();
    assertEquals(RunSummary.Status.FAILED, s.status());
    assertEquals(8, s.steps(), "failed at the first epoch's checkpoint");
    assertTrue(
        s.error().startsWith("no space left on device: cannot write " + Checkpoint.file(dir)),
        s.error());
    assertFalse(Checkpoint.exists(dir));
  }
}
