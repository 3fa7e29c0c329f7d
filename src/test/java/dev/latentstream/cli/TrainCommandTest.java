package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.testing.SyntheticIdx;
import dev.latentstream.testing.TinyJob;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The headless CLI end to end, in process: train, resume, sample, and its errors. */
class TrainCommandTest {

  @TempDir static Path data;
  @TempDir Path tmp;

  @BeforeAll
  static void writeDataset() throws IOException {
    SyntheticIdx.write(data, 256, 64, 3);
  }

  record Result(int code, String err) {}

  static Result run(String... args) {
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, err.toString());
  }

  Path job(String extra) throws IOException {
    return TinyJob.write(tmp.resolve("tiny.json"), data, ",\"epochs\":2" + extra);
  }

  @Test
  void aShortRunWritesEveryArtefactAndThePngsDecode() throws IOException {
    Path out = tmp.resolve("run");
    Result r = run("train", "--job", job("").toString(), "--out", out.toString(), "--plain");
    assertEquals(0, r.code(), r.err());
    for (String f : List.of("job.json", "metrics.csv", "loss.png", "checkpoint/latest.pt")) {
      assertTrue(Files.size(out.resolve(f)) > 0, f);
    }
    for (int e = 1; e <= 2; e++) {
      for (String kind : List.of("reconst", "sampled", "latent", "manifold", "diagnostics")) {
        BufferedImage img = ImageIO.read(out.resolve(kind + "-" + e + ".png").toFile());
        assertNotNull(img, kind + "-" + e + ".png decodes");
        assertTrue(img.getWidth() > 28 && img.getHeight() > 28);
      }
    }
    assertShowsSomething(ImageIO.read(out.resolve("loss.png").toFile()), 200, "loss.png");
    List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals(
        "step,epoch,recon,kl,loss,test_loss,seconds,setting,active_units,topk_fraction,warning",
        csv.getFirst());
    assertEquals(1 + 16, csv.size(), "one row per step: 2 epochs of 8");
    String[] epochEnd = csv.get(8).split(",", -1);
    assertTrue(epochEnd[5].length() > 0, "test loss on the epoch's last step");
    int active = Integer.parseInt(epochEnd[8]);
    assertTrue(active >= 0 && active <= 2, "active units of a 2-d latent: " + active);
    double topK = Double.parseDouble(epochEnd[9]);
    assertTrue(topK > 0 && topK <= 1, "top-k fraction " + topK);
    assertEquals(
        "", csv.get(7).split(",", -1)[8], "headless runs measure diagnostics at epoch ends only");
    String jobJson = Files.readString(out.resolve("job.json"));
    assertTrue(jobJson.contains("\"iwae\""), jobJson);

    Result resumed = run("train", "--out", out.toString(), "--resume", "--epochs", "3", "--plain");
    assertEquals(0, resumed.code(), resumed.err());
    assertEquals(1 + 24, Files.readAllLines(out.resolve("metrics.csv")).size());
    assertTrue(Files.exists(out.resolve("manifold-3.png")));

    assertEquals(
        0,
        run(
                "evaluate",
                "--run",
                out.toString(),
                "--iwae",
                "20",
                "--data-dir",
                data.toString(),
                "--plain")
            .code());
    Result tooMany = run("evaluate", "--run", out.toString(), "--iwae", "5001");
    assertEquals(2, tooMany.code());
    assertTrue(tooMany.err().contains("--iwae must be from 1 to 5000"), tooMany.err());

    Path samples = tmp.resolve("s.png");
    assertEquals(
        0, run("sample", "--run", out.toString(), "--n", "16", "--out", samples.toString()).code());
    assertShowsSomething(ImageIO.read(samples.toFile()), 4 * 28, "16 samples");
  }

  /**
   * A decoded picture at least {@code side} pixels each way whose pixels are not all one colour.
   */
  static void assertShowsSomething(BufferedImage img, int side, String what) {
    assertNotNull(img, what + " decodes");
    assertTrue(
        img.getWidth() >= side && img.getHeight() >= side,
        what + ": " + img.getWidth() + "x" + img.getHeight());
    int first = img.getRGB(0, 0);
    boolean varies = false;
    for (int y = 0; y < img.getHeight() && !varies; y++) {
      for (int x = 0; x < img.getWidth() && !varies; x++) {
        varies = img.getRGB(x, y) != first;
      }
    }
    assertTrue(varies, what + " is one flat colour");
  }

  @Test
  void userErrorsGetOneClearLineAndExitCodeTwo() throws IOException {
    Result missing = run("train", "--job", tmp.resolve("nope.json").toString());
    assertEquals(2, missing.code());
    assertEquals(
        "latentstream: " + tmp.resolve("nope.json") + ": job file not found",
        missing.err().strip());

    Path bad = tmp.resolve("bad.json");
    Files.writeString(bad, "{\"model\":\"vae\",\"lr\":\"fast\"}");
    Result badKey = run("train", "--job", bad.toString());
    assertEquals(2, badKey.code());
    assertTrue(badKey.err().contains("\"lr\" must be a number"), badKey.err());
    assertTrue(!badKey.err().contains("\tat "), "no stack trace");

    Result noCheckpoint = run("train", "--out", tmp.resolve("empty").toString(), "--resume");
    assertEquals(2, noCheckpoint.code());
    assertTrue(noCheckpoint.err().contains("no checkpoint to resume from"), noCheckpoint.err());

    Result zeroEpochs = run("train", "--job", job("").toString(), "--epochs", "0");
    assertEquals(2, zeroEpochs.code());
    assertTrue(zeroEpochs.err().contains("--epochs must be at least 1"), zeroEpochs.err());
  }

  @Test
  void aCompletedRunRecordsItsResultAndStatusForEveryModel() throws IOException {
    for (String model : List.of("ae", "vae")) {
      Path f = tmp.resolve(model + ".json");
      Files.writeString(
          f,
          "{\"model\":\""
              + model
              + "\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,\"epochs\":1,"
              + "\"iwaeSamples\":8,\"dataset\":\""
              + data
              + "\"}");
      Path out = tmp.resolve("result-" + model);
      Result r = run("train", "--job", f.toString(), "--out", out.toString(), "--plain");
      assertEquals(0, r.code(), r.err());
      var job =
          dev.latentstream.config.JobConfigs.JSON.readTree(
              Files.readString(out.resolve("job.json")));
      var result = job.path("result");
      assertTrue(
          result.path("testLoss").isNumber() && result.path("testLoss").asDouble() > 0,
          model + ": " + job);
      assertEquals(1, result.path("epochs").asInt(), model + ": " + job);
      assertEquals(8, result.path("steps").asInt(), model + ": " + job);
      assertEquals(model.equals("vae"), result.has("iwae"), "the IWAE bound is a VAE's: " + job);
      assertTrue(!Files.readString(out.resolve("job.json")).contains("NaN"), job.toString());

      var status = dev.latentstream.rundir.RunStatus.read(out).orElseThrow();
      assertEquals("completed", status.status());
      assertEquals(8, status.step());
      assertEquals(1, status.epoch());
      assertEquals(1.0, status.progress());
      assertEquals(result.path("testLoss").asDouble(), status.testLoss());
      assertEquals(
          dev.latentstream.data.Synthetic.CLASS_NAMES.size(),
          status.classes().size(),
          "the data set's classes");
    }
  }
}
