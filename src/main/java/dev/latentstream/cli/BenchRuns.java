package dev.latentstream.cli;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One side of a {@code bench} row over {@code --seeds}: its runs in seed order, one per seed. The
 * row's figures are over the runs: the mean s/epoch, the mean final test loss (its spread is in
 * {@link LossComparison}), the mean IWAE bound and the largest peak memory.
 */
record BenchRuns(String engine, List<BenchSide> runs) {

  BenchRuns {
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("a side of a row needs at least one run");
    }
    runs = List.copyOf(runs);
  }

  int count() {
    return runs.size();
  }

  List<Long> seeds() {
    return runs.stream().map(BenchSide::seed).toList();
  }

  /** The runs' epoch count (each run trains the same epochs). */
  int epochs() {
    return runs.getFirst().epochs().size();
  }

  double secondsPerEpoch() {
    return mean(BenchSide::secondsPerEpoch);
  }

  double testLoss() {
    return mean(BenchSide::testLoss);
  }

  double[] testLosses() {
    return runs.stream().mapToDouble(BenchSide::testLoss).toArray();
  }

  double iwae() {
    return mean(BenchSide::iwae);
  }

  /** The largest run's peak memory: the row's figure is what the side needs at most. */
  double peakMib() {
    return runs.stream()
        .mapToDouble(BenchSide::peakMib)
        .filter(v -> !Double.isNaN(v))
        .max()
        .orElse(Double.NaN);
  }

  /** "5 seeds (1-5)", or "seed 1". */
  String seedsText() {
    List<Long> s = seeds();
    return s.size() == 1
        ? "seed " + s.getFirst()
        : s.size() + " seeds (" + s.getFirst() + "-" + s.getLast() + ")";
  }

  private double mean(ToDoubleFunction<BenchSide> figure) {
    return runs.stream().mapToDouble(figure).average().orElse(Double.NaN);
  }
}
