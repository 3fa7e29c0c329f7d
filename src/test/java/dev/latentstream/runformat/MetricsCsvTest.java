package dev.latentstream.runformat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A {@code metrics.csv} that a {@code kill -9} cut in the middle of a write reads as its whole
 * rows, and a resume keeps exactly those up to the checkpoint's step; damage before the last row is
 * refused, never skipped over.
 */
class MetricsCsvTest {

  static final List<String> TERMS = List.of("loss", "kl");

  /** A run of {@code steps} steps, 10 to an epoch, with live changes and warnings on some rows. */
  static byte[] written(int steps) throws IOException {
    Path dir = Files.createTempDirectory("metrics");
    Path file = dir.resolve(MetricsCsv.FILE);
    try (MetricsCsv m = new MetricsCsv(file)) {
      m.open(TERMS, 0);
      for (int s = 1; s <= steps; s++) {
        if (s % 7 == 0) {
          m.setting("lr", 0.001 * s);
        }
        m.step(s, (s - 1) / 10 + 1, Map.of("loss", 100.0 / s, "kl", 1.0 / s), 0.25 * s);
        m.diagnostics(s % 3, 0.5);
        if (s % 11 == 0) {
          m.warning("posterior_collapse");
        }
        if (s % 10 == 0) {
          m.epoch(90.0 / s);
        }
      }
    }
    byte[] bytes = Files.readAllBytes(file);
    Files.delete(file);
    Files.delete(dir);
    return bytes;
  }

  /** The lines of {@code bytes} that end in a newline: the header, then the whole rows. */
  static List<String> wholeLines(byte[] bytes, int length) {
    String text = new String(bytes, 0, length, StandardCharsets.UTF_8);
    return text.substring(0, text.lastIndexOf('\n') + 1).lines().toList();
  }

  @Property(tries = 200)
  void anyPrefixOfAValidFileReadsAsItsWholeRows(
      @ForAll @IntRange(min = 1, max = 40) int steps, @ForAll @IntRange(max = 100_000) int at)
      throws IOException {
    byte[] full = written(steps);
    int header = wholeLines(full, full.length).getFirst().length() + 1;
    int cut = header + at % (full.length - header + 1);
    byte[] prefix = Arrays.copyOf(full, cut);

    List<String> whole = wholeLines(full, cut);
    MetricsCsv.Table table = MetricsCsv.parse(prefix);
    assertEquals(whole.size() - 1, table.rows().size(), "every whole row, and only those");
    List<MetricsCsv.Row> all = MetricsCsv.parse(full).rows();
    assertEquals(all.subList(0, table.rows().size()), table.rows());
  }

  @Property(tries = 200)
  void aResumeAfterACutKeepsEachStepUpToTheCheckpointOnce(
      @ForAll @IntRange(min = 1, max = 40) int steps,
      @ForAll @IntRange(max = 100_000) int at,
      @ForAll @IntRange(max = 40) int checkpoint)
      throws IOException {
    byte[] full = written(steps);
    int header = wholeLines(full, full.length).getFirst().length() + 1;
    int cut = header + at % (full.length - header + 1);
    // The rows up to a checkpoint are on the disk before the checkpoint is: it is never past them.
    int keep = Math.min(checkpoint, wholeLines(full, cut).size() - 1);

    Path dir = Files.createTempDirectory("metrics");
    Path file = dir.resolve(MetricsCsv.FILE);
    try {
      Files.write(file, Arrays.copyOf(full, cut));
      try (MetricsCsv m = new MetricsCsv(file)) {
        m.open(TERMS, keep);
      }
      List<String> expected = new ArrayList<>(wholeLines(full, full.length).subList(0, keep + 1));
      if (keep == 0) {
        expected = expected.subList(0, 1);
      }
      assertEquals(
          String.join("\n", expected) + "\n",
          Files.readString(file),
          "header and steps 1.." + keep);
      List<MetricsCsv.Row> rows = MetricsCsv.read(file).rows();
      for (int i = 0; i < rows.size(); i++) {
        assertEquals(i + 1, rows.get(i).step());
      }
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }

  @Property(tries = 100)
  void aRowCutShortBeforeTheLastIsDamageAndTheResumeLeavesTheFileAsItWas(
      @ForAll @IntRange(min = 3, max = 40) int steps, @ForAll @IntRange(max = 100_000) int at)
      throws IOException {
    byte[] full = written(steps);
    List<String> lines = new ArrayList<>(wholeLines(full, full.length));
    // A row other than the last (line 1 is the header) loses its tail.
    int row = 1 + at % (lines.size() - 2);
    String line = lines.get(row);
    lines.set(row, line.substring(0, line.indexOf(',', line.indexOf(',') + 1) + 2));
    byte[] damaged = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);

    IOException e = assertThrows(IOException.class, () -> MetricsCsv.parse(damaged));
    assertTrue(e.getMessage().contains("damaged at line " + (row + 1)), e.getMessage());

    Path dir = Files.createTempDirectory("metrics");
    Path file = dir.resolve(MetricsCsv.FILE);
    try {
      Files.write(file, damaged);
      try (MetricsCsv m = new MetricsCsv(file)) {
        assertThrows(UncheckedIOException.class, () -> m.open(TERMS, steps));
      }
      assertArrayEquals(damaged, Files.readAllBytes(file), "the damaged file as it was");
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }

  @Property(tries = 50)
  void aWholeLastLineWithTheWrongCountOfCellsIsDropped(
      @ForAll @IntRange(min = 1, max = 40) int steps) throws IOException {
    byte[] full = written(steps);
    byte[] torn =
        (new String(full, StandardCharsets.UTF_8) + "41,5,0.3\n").getBytes(StandardCharsets.UTF_8);
    assertEquals(MetricsCsv.parse(full).rows(), MetricsCsv.parse(torn).rows());
  }
}
