package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.data.Dataset;
import dev.latentstream.data.Idx;
import dev.latentstream.data.Synthetic;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latentstream bench} on a tiny job: our side for real, the Python side played by a stand-in
 * that speaks the reference script's JSON lines (so no PyTorch is needed), and the comparison it
 * prints.
 */
class BenchCommandTest {

  @TempDir static Path data;
  @TempDir Path tmp;

  @BeforeAll
  static void writeDataset() throws IOException {
    Dataset d = Synthetic.generate(256, 64, 3);
    Idx.write(
        data.resolve("train-images-idx3-ubyte.gz"), new int[] {256, 28, 28}, d.train().pixels());
    Idx.write(data.resolve("train-labels-idx1-ubyte.gz"), new int[] {256}, d.train().labels());
    Idx.write(data.resolve("t10k-images-idx3-ubyte.gz"), new int[] {64, 28, 28}, d.test().pixels());
    Idx.write(data.resolve("t10k-labels-idx1-ubyte.gz"), new int[] {64}, d.test().labels());
  }

  record Result(int code, String out, String err) {}

  /**
   * Runs the CLI in process; bench prints to {@code System.out}, which is captured for the call.
   */
  static synchronized Result run(String... args) {
    StringWriter err = new StringWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    int code;
    try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      var cl = Main.commandLine();
      cl.setErr(new PrintWriter(err, true));
      code = cl.execute(args);
    } finally {
      System.setOut(saved);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  Path job() throws IOException {
    Path f = tmp.resolve("tiny.json");
    Files.writeString(
        f,
        "{\"model\":\"vae\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,\"iwaeSamples\":4,\"dataset\":\""
            + data
            + "\"}");
    return f;
  }

  @Test
  void aTinyRunAgainstAStandInPeerPrintsBothSidesAndTheirRatio() throws IOException {
    Path peer = tmp.resolve("peer");
    Files.writeString(
        peer,
        """
        #!/bin/sh
        echo '{"epoch": 1, "seconds": 2.0, "test_loss": 300.0}'
        echo '{"epoch": 2, "seconds": 4.0, "test_loss": 250.0}'
        echo '{"iwae": -240.5, "iwae_seconds": 1.0}'
        echo '{"peak_rss_mib": 700}'
        """);
    Files.setPosixFilePermissions(peer, PosixFilePermissions.fromString("rwx------"));
    Result r =
        run("bench", "--job", job().toString(), "--epochs", "2", "--python", peer.toString());
    assertEquals(0, r.code(), r.err() + r.out());
    for (int e = 1; e <= 2; e++) {
      assertTrue(
          Pattern.compile("(?m)^  latentstream epoch " + e + ": \\d+\\.\\d{3} s train\\+test")
              .matcher(r.out())
              .find(),
          r.out());
    }
    assertTrue(r.out().contains("  python epoch 2: 4.000 s, test loss 250.000"), r.out());
    var mean =
        Pattern.compile(
                "(?m)^latentstream(?: \\(engine [\\w-]+\\))?: (\\d+\\.\\d{3}) s/epoch \\(epochs 2-2\\)")
            .matcher(r.out());
    assertTrue(mean.find(), r.out());
    assertTrue(r.out().contains("python:       4.000 s/epoch, final test loss 250.000"), r.out());
    var ratio =
        Pattern.compile("ratio \\(latentstream / python\\): (\\d+\\.\\d\\d)").matcher(r.out());
    assertTrue(ratio.find(), r.out());
    assertEquals(
        Double.parseDouble(mean.group(1)) / 4.0, Double.parseDouble(ratio.group(1)), 0.006);
    assertTrue(r.out().contains("python -240.500"), "the peer's IWAE bound: " + r.out());
    assertTrue(
        Pattern.compile(
                "peak memory \\(MiB, VmHWM / ru_maxrss\\): latentstream \\d+, python 700, ratio")
            .matcher(r.out())
            .find(),
        r.out());
  }

  @Test
  void withoutTorchItSaysWhatToInstallOrSkip() throws IOException {
    Result r =
        run(
            "bench",
            "--job",
            job().toString(),
            "--epochs",
            "1",
            "--python",
            tmp.resolve("no-python").toString());
    assertEquals(2, r.code(), r.out());
    assertTrue(
        r.err().contains("install Debian's python3-torch, or pass --python, or --skip-python"),
        r.err());

    Result skipped = run("bench", "--job", job().toString(), "--epochs", "1", "--skip-python");
    assertEquals(0, skipped.code(), skipped.err());
    assertTrue(
        skipped.out().contains("latentstream: ") && !skipped.out().contains("python epoch"),
        skipped.out());
    assertTrue(
        run("bench", "--job", job().toString(), "--epochs", "0")
            .err()
            .contains("--epochs must be at least 1"));
  }
}
