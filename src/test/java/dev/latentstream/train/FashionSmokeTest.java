package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Split;
import dev.latentstream.render.Renderers;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real thing on real data, kept short: 300 steps of the Fashion-MNIST VAE preset. */
class FashionSmokeTest {

  static Split head(Split s, int n) {
    int size = s.imageSize();
    return new Split(
        Arrays.copyOf(s.pixels(), n * size), Arrays.copyOf(s.labels(), n), n, s.rows(), s.cols());
  }

  @Test
  void threeHundredStepsOnFashionMnistBeatTheUntrainedLossByAClearMargin(@TempDir Path dir) {
    Dataset full = Datasets.load("fashion-mnist", null);
    Dataset data =
        new Dataset(
            full.name(), head(full.train(), 100 * 128), head(full.test(), 2000), full.classNames());
    JobConfig job = JobConfigs.load(Path.of("config/jobs/vae-fashion.json")).withEpochs(3);
    TrainerTest.Recorder r = new TrainerTest.Recorder();
    Trainer t =
        new Trainer(
            job, data, new dev.latentstream.rundir.Checkpoint(dir), Renderers.best(), r, false);
    t.framesAtEpochEndsOnly();
    RunSummary s = t.run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    assertEquals(300, s.steps());
    double untrained = r.steps.getFirst().loss();
    assertTrue(untrained > 500, "an untrained VAE costs ~545 nats per image, got " + untrained);
    assertTrue(
        s.testLoss() < 0.6 * untrained, "test loss " + s.testLoss() + " vs untrained " + untrained);
    assertTrue(s.testLoss() < 300, "test loss after 300 steps: " + s.testLoss());
  }
}
