package dev.latentstream.cli;

import java.util.List;

/**
 * One run of one side of a {@code bench} race: the engine that ran ({@code python} for the peer),
 * the seed it trained with, its epochs, its peak memory in MiB and its IWAE bound (NaN where there
 * is none). {@link BenchRuns} holds a side's runs over {@code --seeds}.
 */
record BenchSide(
    String engine, long seed, List<BenchSide.Epoch> epochs, double peakMib, double iwae) {

  /** {@code seconds}: training plus the test pass; {@code allSeconds}: everything the epoch did. */
  record Epoch(int epoch, double seconds, double allSeconds, double testLoss) {}

  /** The mean s/epoch, leaving out the first epoch (JIT warm-up, imports) when there are more. */
  double secondsPerEpoch() {
    int from = epochs.size() > 1 ? 1 : 0;
    return epochs.subList(from, epochs.size()).stream()
        .mapToDouble(Epoch::seconds)
        .average()
        .orElse(Double.NaN);
  }

  double testLoss() {
    return epochs.isEmpty() ? Double.NaN : epochs.getLast().testLoss();
  }
}
