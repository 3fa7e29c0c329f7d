package dev.latentstream.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code bench} prints and writes: each row's comparison once its seeds have run, the table of
 * every row at the end, the CSV of the rows (the means over seeds; issue 19's columns, no more) and
 * the CSV of every run ({@code --runs-csv}: each side's seed, s/epoch, test loss and memory, from
 * which the spreads can be checked).
 */
final class BenchReport {
  private BenchReport() {}

  static final String CSV_HEADER =
      "preset,engine,ours_s_per_epoch,peer_s_per_epoch,ratio,test_loss_ours,test_loss_peer,"
          + "mem_ours_mib,mem_peer_mib";

  static final String RUNS_CSV_HEADER = "preset,side,seed,s_per_epoch,test_loss,mem_mib";

  /**
   * One row of the table and the CSV: a preset on one of our engines against its peer (or null),
   * each side over the same seeds. {@code speedGoal} is the s/epoch ratio issue 19 asks of it: 0.4
   * for the hand-written step on the MLP VAE (the one preset it was written for), 1.0 otherwise.
   */
  record Row(String preset, BenchRuns ours, BenchRuns peer, double speedGoal) {
    double ratio() {
      return peer == null ? Double.NaN : ours.secondsPerEpoch() / peer.secondsPerEpoch();
    }

    LossComparison losses() {
      // the peers start from our weights and draw our batches and noise at the same seed
      return LossComparison.of(
          ours.testLosses(), peer.testLosses(), ours.seeds().equals(peer.seeds()));
    }

    String csvLine() {
      return String.join(
          ",",
          preset,
          ours.engine(),
          number(ours.secondsPerEpoch(), 4),
          peer == null ? "" : number(peer.secondsPerEpoch(), 4),
          peer == null ? "" : number(ratio(), 4),
          number(ours.testLoss(), 4),
          peer == null ? "" : number(peer.testLoss(), 4),
          number(ours.peakMib(), 0),
          peer == null ? "" : number(peer.peakMib(), 0));
    }
  }

  /** One row's comparison, with the goals of issue 19 beside each figure. */
  static void printComparison(Row row) {
    BenchRuns ours = row.ours();
    BenchRuns peer = row.peer();
    int from = ours.epochs() > 1 ? 2 : 1;
    System.out.printf(
        Locale.ROOT,
        "%nlatentstream (engine %s): %.3f s/epoch (epochs %d-%d)%s, final test loss %s%n",
        ours.engine(),
        ours.secondsPerEpoch(),
        from,
        ours.epochs(),
        over(ours),
        LossComparison.Spread.of(ours.testLosses()).text());
    if (peer != null) {
      printAgainstPeer(row);
    }
    if (!Double.isNaN(ours.iwae())) {
      System.out.printf(
          Locale.ROOT,
          "IWAE bound, log p(x) >= (nats per image): latentstream %.3f, python %s%n",
          ours.iwae(),
          peer == null || Double.isNaN(peer.iwae()) ? "-" : number(peer.iwae(), 3));
    }
    printMemory(ours, peer);
  }

  /** ", mean of 5 seeds (1-5)", or nothing for one seed. */
  private static String over(BenchRuns side) {
    return side.count() == 1 ? "" : ", mean of " + side.seedsText();
  }

  private static void printAgainstPeer(Row row) {
    BenchRuns peer = row.peer();
    System.out.printf(
        Locale.ROOT,
        "python:       %.3f s/epoch%s, final test loss %s%n",
        peer.secondsPerEpoch(),
        over(peer),
        LossComparison.Spread.of(peer.testLosses()).text());
    System.out.printf(
        Locale.ROOT,
        "ratio (latentstream / python): %.2f  (goal <= %.1f)%n",
        row.ratio(),
        row.speedGoal());
    row.losses().lines().forEach(System.out::println);
  }

  private static void printMemory(BenchRuns ours, BenchRuns peer) {
    boolean both = peer != null && !Double.isNaN(peer.peakMib()) && !Double.isNaN(ours.peakMib());
    System.out.printf(
        Locale.ROOT,
        "peak memory (MiB, VmHWM of each process%s): latentstream %.0f, python %s%s%n",
        ours.count() > 1 ? ", the largest over the seeds" : "",
        ours.peakMib(),
        peer == null || Double.isNaN(peer.peakMib()) ? "-" : number(peer.peakMib(), 0),
        both ? ", ratio " + number(ours.peakMib() / peer.peakMib(), 2) + "  (goal <= 1.2)" : "");
  }

  /** The rows, means over the seeds; a test loss over several seeds carries its sample sd. */
  static void printTable(List<Row> rows) {
    System.out.printf(
        "%n%-18s %-9s %5s %10s %10s %6s %33s %8s %15s%n",
        "preset",
        "engine",
        "seeds",
        "ours s/ep",
        "peer s/ep",
        "ratio",
        "test loss ours / peer",
        "diff",
        "MiB ours/peer");
    for (Row r : rows) {
      BenchRuns p = r.peer();
      System.out.printf(
          Locale.ROOT,
          "%-18s %-9s %5d %10.3f %10s %6s %33s %8s %15s%n",
          r.preset(),
          r.ours().engine(),
          r.ours().count(),
          r.ours().secondsPerEpoch(),
          p == null ? "-" : number(p.secondsPerEpoch(), 3),
          p == null ? "-" : number(r.ratio(), 2),
          LossComparison.Spread.of(r.ours().testLosses()).text()
              + " / "
              + (p == null ? "-" : LossComparison.Spread.of(p.testLosses()).text()),
          p == null ? "-" : String.format(Locale.ROOT, "%+.2f%%", r.losses().differencePercent()),
          number(r.ours().peakMib(), 0) + " / " + (p == null ? "-" : number(p.peakMib(), 0)));
    }
  }

  static void writeCsv(Path file, List<Row> rows) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(CSV_HEADER);
    rows.forEach(r -> lines.add(r.csvLine()));
    write(file, lines);
    System.out.println("rows written to " + file);
  }

  /** Every run of every row, ours per engine and the peer's once per preset. */
  static void writeRunsCsv(Path file, List<Row> rows) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(RUNS_CSV_HEADER);
    Set<BenchRuns> written = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Row r : rows) {
      for (BenchRuns side : Arrays.asList(r.ours(), r.peer())) {
        if (side != null && written.add(side)) {
          for (BenchSide run : side.runs()) {
            lines.add(
                String.join(
                    ",",
                    r.preset(),
                    run.engine(),
                    Long.toString(run.seed()),
                    number(run.secondsPerEpoch(), 4),
                    number(run.testLoss(), 4),
                    number(run.peakMib(), 0)));
          }
        }
      }
    }
    write(file, lines);
    System.out.println("runs written to " + file);
  }

  /** Whole or not at all: a sibling temporary file, renamed over {@code file}. */
  private static void write(Path file, List<String> lines) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** {@code v} with {@code decimals} places, or "" for NaN. */
  static String number(double v, int decimals) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
