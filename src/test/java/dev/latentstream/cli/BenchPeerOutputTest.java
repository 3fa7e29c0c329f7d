package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.testing.SyntheticIdx;
import dev.latentstream.testing.TinyJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A peer whose stdout is not what {@code bench} reads: a stand-in script (as in {@link
 * BenchCommandTest}) prints one bad line after a good epoch; bench says which preset, script and
 * line, exits 2 and writes no CSV.
 */
class BenchPeerOutputTest {

  @TempDir static Path data;
  @TempDir Path tmp;

  @BeforeAll
  static void writeDataset() throws IOException {
    SyntheticIdx.write(data, 64, 32, 3);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "Traceback (most recent call last): oops | line 2: not JSON in 'Traceback (most recent",
        "{\"epoch\": 2, \"seconds\": 4.0} | line 2: no \"test_loss\" in '{\"epoch\": 2",
        "{\"epoch\": 2, \"seconds\": -4.0, \"test_loss\": 1} | \"seconds\" is -4.0, not a time",
        "{\"epoch\": 2, \"seconds\": NaN, \"test_loss\": 1} | \"seconds\" is NaN, not a time",
        "{\"epoch\": 2, \"seconds\": \"4\", \"test_loss\": 1} | \"seconds\" is \"4\", not a number",
        "{\"epoch\": 2, \"sec | line 2: not JSON in '{\"epoch\": 2, \"sec'",
      })
  void aPeerLineBenchCannotReadIsAnErrorNamingThePresetAndTheLine(String bad, String problem)
      throws IOException {
    Path peer = tmp.resolve("peer");
    Files.writeString(
        peer,
        "#!/bin/sh\n"
            + "echo '{\"epoch\": 1, \"seconds\": 2.0, \"test_loss\": 300.0}'\n"
            + "cat <<'END'\n"
            + bad
            + "\nEND\n"
            + "echo '{\"peak_rss_mib\": 700}'\n");
    Files.setPosixFilePermissions(peer, PosixFilePermissions.fromString("rwx------"));
    Path csv = tmp.resolve("rows.csv");
    Path runs = tmp.resolve("runs.csv");
    BenchCommandTest.Result r =
        BenchCommandTest.run(
            "bench",
            "--job",
            TinyJob.write(tmp.resolve("tiny.json"), data, "").toString(),
            "--engine",
            "libtorch",
            "--epochs",
            "1",
            "--python",
            peer.toString(),
            "--csv",
            csv.toString(),
            "--runs-csv",
            runs.toString());
    assertEquals(2, r.code(), r.err() + r.out());
    String err = r.err().strip();
    assertTrue(
        err.startsWith(
            "latentstream: bench of tiny: the python peer vae_reference.py printed what bench"
                + " cannot read, line 2: "),
        err);
    assertTrue(err.contains(problem), err);
    assertTrue(err.endsWith("(its stderr went to ours, above)"), err);
    assertFalse(err.contains("internal error") || err.contains("\n"), "one line: " + err);
    assertFalse(Files.exists(csv) || Files.exists(runs), "no CSV written");
    try (var left = Files.list(tmp)) {
      assertFalse(left.anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary CSV left");
    }
  }
}
