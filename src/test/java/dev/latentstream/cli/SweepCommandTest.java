package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.Sweep;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.testing.SyntheticIdx;
import dev.latentstream.testing.TinyJob;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code latentstream sweep} on synthetic data: a 2×2 grid's artefacts, and a stopped sweep
 * resumed.
 */
@Timeout(300)
class SweepCommandTest {

  @TempDir static Path data;
  @TempDir Path tmp;

  @BeforeAll
  static void writeDataset() throws IOException {
    SyntheticIdx.write(data, 256, 64, 3);
  }

  Path job(int epochs) throws IOException {
    return TinyJob.write(tmp.resolve("tiny.json"), data, ",\"epochs\":" + epochs);
  }

  @Test
  void aTwoByTwoGridWritesFourRunDirectoriesTheCsvAndBothComparisons() throws IOException {
    Path out = tmp.resolve("sweep");
    var r =
        TrainCommandTest.run(
            "sweep",
            "--job",
            job(2).toString(),
            "--set",
            "beta=1,4",
            "--set",
            "latent=2,3",
            "--out",
            out.toString());
    assertEquals(0, r.code(), r.err());
    List<String> names =
        List.of(
            "tiny-beta1-latent2", "tiny-beta1-latent3", "tiny-beta4-latent2", "tiny-beta4-latent3");
    for (String n : names) {
      assertTrue(Files.size(out.resolve(n).resolve(MetricsCsv.FILE)) > 0, n);
      assertEquals(n, JobConfigs.load(out.resolve(n).resolve("job.json")).name());
    }
    assertEquals(3, JobConfigs.load(out.resolve("tiny-beta4-latent3/job.json")).latent());
    List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
    assertEquals("name,beta,latent,status,test_loss,iwae,active_units,seconds", csv.get(0));
    assertEquals(5, csv.size(), String.join("\n", csv));
    for (int i = 0; i < 4; i++) {
      String[] cells = csv.get(i + 1).split(",", -1);
      assertEquals(names.get(i), cells[0]);
      assertEquals("completed", cells[3]);
      assertTrue(Double.parseDouble(cells[4]) > 0, "a final test loss: " + csv.get(i + 1));
      assertTrue(Double.isFinite(Double.parseDouble(cells[5])), "an IWAE bound: " + csv.get(i + 1));
      assertTrue(Integer.parseInt(cells[6]) >= 0, "active units: " + csv.get(i + 1));
      assertTrue(Double.parseDouble(cells[7]) > 0, "seconds: " + csv.get(i + 1));
    }
    // The members' test-loss chart (900 x 520): drawn, not a blank canvas.
    TrainCommandTest.assertShowsSomething(
        ImageIO.read(out.resolve("compare-loss.png").toFile()), 500, "compare-loss.png");
    BufferedImage samples = ImageIO.read(out.resolve("compare-samples.png").toFile());
    BufferedImage one = ImageIO.read(out.resolve("tiny-beta1-latent2/sampled-2.png").toFile());
    assertTrue(samples.getHeight() >= 4 * one.getHeight(), "one row per member");
  }

  @Test
  void aStoppedSweepResumesWithoutTrainingAnyMemberTwice() throws Exception {
    Path out = tmp.resolve("stopped");
    Path spec = job(40);
    SweepCommand first = new SweepCommand();
    int[] code = {-1};
    Thread t =
        Thread.ofPlatform()
            .start(
                () ->
                    code[0] =
                        new CommandLine(first)
                            .execute(
                                "--job",
                                spec.toString(),
                                "--set",
                                "beta=1,4",
                                "--out",
                                out.toString()));
    Path second = out.resolve("tiny-beta4/metrics.csv");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(200);
    while (!(Files.isRegularFile(second) && Files.size(second) > 200)
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    first.requestStop();
    t.join(120_000);
    assertEquals(130, code[0], "stopped");
    byte[] firstMetrics = Files.readAllBytes(out.resolve("tiny-beta1/metrics.csv"));
    long stoppedAt = MetricsCsv.read(second).rows().getLast().step();
    assertTrue(stoppedAt < 40 * 8, "the second member was stopped part-way, at step " + stoppedAt);

    var r = TrainCommandTest.run("sweep", "--resume", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(
        firstMetrics,
        Files.readAllBytes(out.resolve("tiny-beta1/metrics.csv")),
        "the finished member was not trained again");
    List<Long> steps = MetricsCsv.read(second).rows().stream().map(MetricsCsv.Row::step).toList();
    for (int i = 1; i < steps.size(); i++) {
      assertTrue(
          steps.get(i) > steps.get(i - 1),
          "no step trained twice: " + steps.get(i - 1) + " then " + steps.get(i));
    }
    assertEquals(40 * 8, steps.getLast());
    assertEquals(3, Files.readAllLines(out.resolve("sweep.csv")).size());
  }

  @Test
  void badGridsNameTheKey() {
    var base = JobConfigs.JSON.createObjectNode().put("model", "vae").put("dataset", "synthetic");
    var tooMany = JobConfigs.JSON.createObjectNode();
    tooMany.putArray("latent").add(1).add(2).add(3).add(4).add(5).add(6).add(7).add(8);
    tooMany.putArray("beta").add(1).add(2).add(3).add(4).add(5).add(6).add(7).add(8).add(9);
    assertTrue(
        assertThrowsMessage(() -> Sweep.expand(base, tooMany, "t", "x"))
            .contains("\"sweep.beta\""));
    var notArray = JobConfigs.JSON.createObjectNode().put("beta", 4);
    assertTrue(
        assertThrowsMessage(() -> Sweep.expand(base, notArray, "t", "x"))
            .contains("\"sweep.beta\""));
    var unknown = JobConfigs.JSON.createObjectNode();
    unknown.putArray("bogus").add(1);
    assertTrue(assertThrowsMessage(() -> Sweep.expand(base, unknown, "t", "x")).contains("bogus"));
    var bad = JobConfigs.JSON.createObjectNode();
    bad.putArray("latent").add(2).add(-1);
    String m = assertThrowsMessage(() -> Sweep.expand(base, bad, "t", "x"));
    assertTrue(m.contains("latent") && m.contains("latent=-1"), m);
    var grid = JobConfigs.JSON.createObjectNode();
    grid.putArray("beta").add(0.5).add(4);
    grid.putArray("latent").add(2).add(20);
    Sweep s = Sweep.expand(base, grid, "t", "vae");
    assertEquals(
        List.of(
            "vae-beta0.5-latent2",
            "vae-beta0.5-latent20",
            "vae-beta4-latent2",
            "vae-beta4-latent20"),
        s.members().stream().map(x -> x.spec().name()).toList());
    assertEquals(20, s.members().get(3).spec().latent());
  }

  static String assertThrowsMessage(org.junit.jupiter.api.function.Executable e) {
    return org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, e).getMessage();
  }
}
