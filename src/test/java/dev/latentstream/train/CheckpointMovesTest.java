package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfig.Engine;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint continues on either engine, and one written before the common Adam layout still
 * resumes.
 */
class CheckpointMovesTest {

  static JobConfig vae(int epochs, Engine engine) {
    return EngineTest.vae(engine).withEpochs(epochs);
  }

  /** {@code first}'s 2 epochs, then 2 more on {@code second}, against 4 on {@code first} alone. */
  static void resumesOnTheOtherEngine(Engine first, Engine second, Path straight, Path moved) {
    TrainerTest.Recorder four = TrainerTest.train(vae(4, first), straight, false);
    TrainerTest.Recorder two = TrainerTest.train(vae(2, first), moved, false);
    assertEquals(first, two.start.engine());
    TrainerTest.Recorder rest = TrainerTest.train(vae(4, second), moved, true);
    assertEquals(
        RunSummary.Status.COMPLETED, rest.summary.status(), String.valueOf(rest.summary.error()));
    assertEquals(second, rest.start.engine());
    assertEquals(two.steps.getLast().step(), rest.start.startStep());
    double want = four.epochs.getLast().testLoss();
    double got = rest.epochs.getLast().testLoss();
    assertEquals(
        want,
        got,
        0.005 * want,
        first.wireName()
            + " then "
            + second.wireName()
            + ": test loss "
            + got
            + " against "
            + want
            + " on "
            + first.wireName()
            + " throughout");
    // Adam's moments came along: a restarted Adam's first steps move every weight by about lr,
    // which shows.
    assertTrue(
        Math.abs(rest.steps.getFirst().loss() - two.steps.getLast().loss())
            < 0.1 * two.steps.getLast().loss(),
        "the first resumed step continues the curve");
  }

  @Test
  void twoNativeEpochsResumedOnLibtorchEndWhereFourNativeEpochsDo(
      @TempDir Path a, @TempDir Path b) {
    resumesOnTheOtherEngine(Engine.NATIVE, Engine.LIBTORCH, a, b);
  }

  @Test
  void twoLibtorchEpochsResumedOnNativeEndWhereFourLibtorchEpochsDo(
      @TempDir Path a, @TempDir Path b) {
    resumesOnTheOtherEngine(Engine.LIBTORCH, Engine.NATIVE, a, b);
  }

  /** The committed run, written by the code before the common layout (FusedAdam's own keys). */
  static Path fixture(Path into) throws IOException {
    Path from = Path.of("src/test/resources/fixtures/run-format3-fused-adam");
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path to = into.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return into;
  }

  @Test
  void aCheckpointInTheFormerFusedLayoutResumesOnBothEngines(@TempDir Path n, @TempDir Path t)
      throws IOException {
    Dataset data = Datasets.load("synthetic", null);
    double[] tests = new double[2];
    int k = 0;
    for (Path dir : new Path[] {fixture(n), fixture(t)}) {
      Engine engine = dir == n ? Engine.NATIVE : Engine.LIBTORCH;
      JobConfig job = Checkpoint.readProgress(dir).job().withEpochs(2).withEngine(engine);
      assertEquals(
          Engine.AUTO,
          JobConfigs.load(dir.resolve("job.json")).engine(),
          "a job file from before the key");
      TrainerTest.Recorder r = new TrainerTest.Recorder();
      new Trainer(
              job,
              data,
              new Checkpoint(dir),
              Renderers.best(),
              TrainingListener.compose(new RunDirectoryWriter(dir), r),
              true)
          .run();
      assertEquals(
          RunSummary.Status.COMPLETED, r.summary.status(), engine + ": " + r.summary.error());
      assertEquals(engine, r.start.engine());
      assertEquals(
          12, r.start.startStep(), "6000 images in batches of 500: one epoch was 12 steps");
      assertEquals(24, r.steps.getLast().step());
      tests[k++] = r.epochs.getLast().testLoss();
    }
    // Both continue the same optimiser state: they end where each other does.
    assertEquals(
        tests[0], tests[1], 0.005 * tests[0], "native " + tests[0] + ", libtorch " + tests[1]);
  }
}
