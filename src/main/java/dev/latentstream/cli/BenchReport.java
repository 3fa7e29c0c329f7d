package dev.latentstream.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code bench} prints and writes: each row's comparison as it is raced, the table of every
 * row at the end, and the CSV.
 */
final class BenchReport {
  private BenchReport() {}

  static final String CSV_HEADER =
      "preset,engine,ours_s_per_epoch,peer_s_per_epoch,ratio,test_loss_ours,test_loss_peer,"
          + "mem_ours_mib,mem_peer_mib";

  /**
   * One row of the table and the CSV: a preset on one of our engines against its peer (or null).
   */
  record Row(String preset, BenchSide ours, BenchSide peer) {
    double ratio() {
      return peer == null ? Double.NaN : ours.secondsPerEpoch() / peer.secondsPerEpoch();
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
    BenchSide ours = row.ours();
    BenchSide peer = row.peer();
    int from = ours.epochs().size() > 1 ? 2 : 1;
    System.out.printf(
        Locale.ROOT,
        "%nlatentstream (engine %s): %.3f s/epoch (epochs %d-%d), final test loss %.3f%n",
        ours.engine(),
        ours.secondsPerEpoch(),
        from,
        ours.epochs().size(),
        ours.testLoss());
    if (peer != null && !peer.epochs().isEmpty()) {
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

  private static void printAgainstPeer(Row row) {
    BenchSide peer = row.peer();
    double goal = row.ours().engine().equals("native") ? 0.4 : 1.0;
    double gap = 100 * (row.ours().testLoss() - peer.testLoss()) / peer.testLoss();
    System.out.printf(
        Locale.ROOT,
        "python:       %.3f s/epoch, final test loss %.3f%n",
        peer.secondsPerEpoch(),
        peer.testLoss());
    System.out.printf(
        Locale.ROOT, "ratio (latentstream / python): %.2f  (goal <= %.1f)%n", row.ratio(), goal);
    System.out.printf(Locale.ROOT, "test loss difference: %+.2f%%  (goal within 1%%)%n", gap);
  }

  private static void printMemory(BenchSide ours, BenchSide peer) {
    boolean both = peer != null && !Double.isNaN(peer.peakMib()) && !Double.isNaN(ours.peakMib());
    System.out.printf(
        Locale.ROOT,
        "peak memory (MiB, VmHWM of each process): latentstream %.0f, python %s%s%n",
        ours.peakMib(),
        peer == null || Double.isNaN(peer.peakMib()) ? "-" : number(peer.peakMib(), 0),
        both ? ", ratio " + number(ours.peakMib() / peer.peakMib(), 2) + "  (goal <= 1.2)" : "");
  }

  static void printTable(List<Row> rows) {
    System.out.printf(
        "%n%-18s %-9s %10s %10s %6s %21s %15s%n",
        "preset",
        "engine",
        "ours s/ep",
        "peer s/ep",
        "ratio",
        "test loss ours/peer",
        "MiB ours/peer");
    for (Row r : rows) {
      BenchSide p = r.peer();
      System.out.printf(
          Locale.ROOT,
          "%-18s %-9s %10.3f %10s %6s %21s %15s%n",
          r.preset(),
          r.ours().engine(),
          r.ours().secondsPerEpoch(),
          p == null ? "-" : number(p.secondsPerEpoch(), 3),
          p == null ? "-" : number(r.ratio(), 2),
          number(r.ours().testLoss(), 3) + " / " + (p == null ? "-" : number(p.testLoss(), 3)),
          number(r.ours().peakMib(), 0) + " / " + (p == null ? "-" : number(p.peakMib(), 0)));
    }
  }

  static void writeCsv(Path file, List<Row> rows) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(CSV_HEADER);
    rows.forEach(r -> lines.add(r.csvLine()));
    Files.write(file, lines, StandardCharsets.UTF_8);
    System.out.println("rows written to " + file);
  }

  /** {@code v} with {@code decimals} places, or "" for NaN. */
  static String number(double v, int decimals) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
