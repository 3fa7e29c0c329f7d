package dev.latentstream.diagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Watches a run's diagnostics and test losses and raises {@link Warning}s, each naming the setting
 * a user would try:
 *
 * <ul>
 *   <li>{@code posterior_collapse}: at an epoch end, fewer than {@link #collapseThreshold} latent
 *       dimensions of a variational model are active (β, or free bits when β ≤ 1);
 *   <li>{@code inactive_dimensions}: some dimensions kept their KL under {@link #EPSILON} nats at
 *       every diagnostics tick of an epoch (free bits);
 *   <li>{@code test_loss_rising}: the test loss rose three epochs in a row (lr).
 * </ul>
 *
 * Each alarm is raised when its condition starts to hold (or worsens), not at every tick while it
 * holds. Fed by the trainer thread; not thread-safe.
 */
public final class Alarms {

  /** KL per dimension under this many nats counts as unused. */
  public static final double EPSILON = 0.01;

  static final int RISING_EPOCHS = 3;

  private final int dims;
  private final boolean variational;
  private final double beta;

  /** Dimensions under ε at every tick of the current epoch so far (null: no tick yet). */
  private boolean[] quietThisEpoch;

  private int reportedInactive;
  private boolean collapsed;
  private final List<Double> testLosses = new ArrayList<>();
  private boolean risingReported;

  /**
   * @param beta the job's β, to suggest lowering it only where raising it caused the collapse
   */
  public Alarms(int dims, boolean variational, double beta) {
    this.dims = dims;
    this.variational = variational;
    this.beta = beta;
  }

  /**
   * Below this many active units a variational model's posterior has collapsed: 1 + ⌈dims / 10⌉, at
   * most dims.
   */
  public static int collapseThreshold(int dims) {
    return Math.min(dims, 1 + (dims + 9) / 10);
  }

  /** A diagnostics tick within an epoch (the epoch-end one goes to {@link #epochEnd}). */
  public void tick(Diagnostics d) {
    if (!variational || !d.kind().equals(Diagnostics.KL)) {
      return;
    }
    double[] kl = d.values();
    if (quietThisEpoch == null) {
      quietThisEpoch = new boolean[dims];
      java.util.Arrays.fill(quietThisEpoch, true);
    }
    for (int i = 0; i < dims && i < kl.length; i++) {
      quietThisEpoch[i] &= kl[i] < EPSILON;
    }
  }

  /**
   * An epoch ended with diagnostics {@code d} (null when none were computed) and test loss {@code
   * testLoss}.
   *
   * @return the warnings to raise now, possibly none
   */
  public List<Warning> epochEnd(long step, int epoch, Diagnostics d, double testLoss) {
    List<Warning> out = new ArrayList<>();
    if (d != null) {
      tick(d);
    }
    if (variational && d != null && d.kind().equals(Diagnostics.KL)) {
      boolean collapse = d.activeUnits() < collapseThreshold(dims);
      if (collapse && !collapsed) {
        String setting = beta > 1 ? "beta" : "freeBits";
        String remedy =
            beta > 1
                ? "try lowering beta (now " + fmt(beta) + ") or setting freeBits"
                : "try setting freeBits or a klWarmupSteps warm-up";
        out.add(
            new Warning(
                step,
                epoch,
                Warning.POSTERIOR_COLLAPSE,
                "only "
                    + d.activeUnits()
                    + " of "
                    + dims
                    + " latent dimensions "
                    + (d.activeUnits() == 1 ? "is" : "are")
                    + " active; "
                    + remedy,
                setting));
      }
      collapsed = collapse;
      int quiet = 0;
      if (quietThisEpoch != null) {
        for (boolean q : quietThisEpoch) {
          quiet += q ? 1 : 0;
        }
      }
      if (!collapse && quiet > reportedInactive) {
        out.add(
            new Warning(
                step,
                epoch,
                Warning.INACTIVE_DIMENSIONS,
                quiet
                    + " of "
                    + dims
                    + " latent dimensions kept their KL under "
                    + fmt(EPSILON)
                    + " nats for the whole epoch; try setting"
                    + " freeBits to keep them in use, or a smaller latent",
                "freeBits"));
      }
      reportedInactive = collapse ? reportedInactive : quiet;
    }
    quietThisEpoch = null;
    if (Double.isFinite(testLoss)) {
      testLosses.add(testLoss);
      int n = testLosses.size();
      boolean rising = n > RISING_EPOCHS;
      for (int i = n - RISING_EPOCHS; rising && i < n; i++) {
        rising = testLosses.get(i) > testLosses.get(i - 1);
      }
      if (rising && !risingReported) {
        out.add(
            new Warning(
                step,
                epoch,
                Warning.TEST_LOSS_RISING,
                "the test loss rose "
                    + RISING_EPOCHS
                    + " epochs in a row ("
                    + fmt(testLosses.get(n - 1 - RISING_EPOCHS))
                    + " to "
                    + fmt(testLosses.get(n - 1))
                    + "); try lowering lr",
                "lr"));
      }
      risingReported = rising;
    }
    return out;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }
}
