package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.testing.SyntheticIdx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latentstream export}: a trained run to both formats, and one clear line with exit 2 for
 * bad input.
 */
class ExportCommandTest {

  @TempDir static Path root;
  static Path run;

  @BeforeAll
  static void trainARun() throws IOException {
    Path data = SyntheticIdx.write(root.resolve("data"), 128, 32, 3);
    Path job = root.resolve("job.json");
    Files.writeString(
        job,
        "{\"model\":\"vae\",\"hidden\":[16],\"latent\":2,\"batchSize\":32,\"epochs\":2,"
            + "\"iwaeSamples\":0,\"dataset\":\""
            + data
            + "\"}");
    run = root.resolve("run");
    assertEquals(
        0, run("train", "--job", job.toString(), "--out", run.toString(), "--plain").code());
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    var before = System.out;
    var out = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(out, true));
    try {
      int code = cl.execute(args);
      return new Result(code, out.toString(), err.toString());
    } finally {
      System.setOut(before);
    }
  }

  @Test
  void exportsTheLatestCheckpointOrAnEpochsInEitherFormat(@TempDir Path out) throws IOException {
    Result pt =
        run(
            "export",
            "--run",
            run.toString(),
            "--format",
            "pt",
            "--out",
            out.resolve("m.pt").toString());
    assertEquals(0, pt.code(), pt.err());
    assertTrue(pt.out().contains("step 8, epoch 2"), pt.out());
    assertEquals('P', Files.readAllBytes(out.resolve("m.pt"))[0]);
    Result st =
        run(
            "export",
            "--run",
            run.toString(),
            "--format",
            "safetensors",
            "--epoch",
            "1",
            "--part",
            "decoder",
            "--out",
            out.resolve("d.safetensors").toString());
    assertEquals(0, st.code(), st.err());
    assertTrue(st.out().contains("decoder, 4 tensors, step 4, epoch 1"), st.out());
  }

  @Test
  void badInputIsOneLineAndExitTwoAndWritesNothing(@TempDir Path out) throws IOException {
    Path target = out.resolve("m.pt");
    Path empty = root.resolve("empty-run");
    Files.createDirectories(empty.resolve("checkpoint"));
    Path corrupt = root.resolve("corrupt-run");
    Files.createDirectories(corrupt.resolve("checkpoint"));
    Files.writeString(corrupt.resolve("checkpoint/latest.pt"), "not a zip at all");
    for (List<String> args :
        List.of(
            List.of("--run", run.toString(), "--format", "onnx"),
            List.of("--run", run.toString(), "--format", "pt", "--part", "encoder"),
            List.of("--run", run.toString(), "--format", "pt", "--epoch", "7"),
            List.of("--run", empty.toString(), "--format", "pt"),
            List.of("--run", corrupt.toString(), "--format", "safetensors"))) {
      List<String> full = new java.util.ArrayList<>(List.of("export", "--out", target.toString()));
      full.addAll(args);
      Result r = run(full.toArray(String[]::new));
      assertEquals(2, r.code(), args + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), args + ": " + r.err());
      assertTrue(r.err().startsWith("latentstream: "), r.err());
      try (var files = Files.list(out)) {
        assertFalse(files.findAny().isPresent(), args + " wrote something");
      }
    }
    assertTrue(
        run(
                "export",
                "--out",
                target.toString(),
                "--run",
                run.toString(),
                "--format",
                "pt",
                "--epoch",
                "7")
            .err()
            .contains("epoch 7"));
  }
}
