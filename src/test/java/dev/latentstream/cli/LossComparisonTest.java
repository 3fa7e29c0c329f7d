package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.cli.LossComparison.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bench's test-loss statistics on known numbers. The expected figures are SciPy 1.17's ({@code
 * scipy.stats.ttest_ind(ours, peer, equal_var=False)}, NumPy's {@code std(ddof=1)}, the interval
 * from {@code scipy.stats.t.ppf(0.975, df)}), not this code's formulas again.
 */
class LossComparisonTest {

  static final double[] PEER = {189.1, 190.9, 189.6, 190.0, 188.4};

  @Test
  void meansSpreadsAndWelchsTestMatchScipy() {
    LossComparison c = LossComparison.of(new double[] {187.2, 188.1, 187.5, 188.4, 187.9}, PEER);
    assertEquals(5, c.ours().n());
    assertEquals(187.82, c.ours().mean(), 1e-9);
    assertEquals(0.4764451699828686, c.ours().sd(), 1e-9);
    assertEquals(189.6, c.peer().mean(), 1e-9);
    assertEquals(0.9407443861113398, c.peer().sd(), 1e-9);
    assertEquals(5.92530973196897, c.degreesOfFreedom(), 1e-9);
    assertEquals(-3.7744407370758624, c.t(), 1e-9);
    assertEquals(0.009458114667908862, c.p(), 1e-7);
    assertEquals(-0.9388185654008445, c.differencePercent(), 1e-9);
    assertEquals(0.24873050891459134, c.standardErrorPercent(), 1e-9);
    assertEquals(-1.5493047191209273, c.lowPercent(), 1e-6);
    assertEquals(-0.32833241168076177, c.highPercent(), 1e-6);
    // the means differ, yet the 1 % line lies inside the interval: five seeds cannot say
    assertEquals(Verdict.CANNOT_TELL, c.verdict());
    List<String> lines = c.lines();
    assertEquals(
        "test loss over 5 / 5 seeds, mean ± sample sd: latentstream 187.820 ± 0.476,"
            + " python 189.600 ± 0.941",
        lines.get(0));
    assertEquals(
        "difference of means: -0.94% of the peer's (standard error 0.25%; 95% interval -1.55% to"
            + " -0.33%)",
        lines.get(1));
    assertEquals(
        "Welch's t = -3.77 (df 5.9), p = 0.00946: the means differ beyond seed noise",
        lines.get(2));
    assertTrue(lines.get(3).startsWith("goal within 1%: cannot tell at 5 seeds"), lines.get(3));
  }

  @Test
  void pairedBySeedTheDifferencesGetAPairedTestThatDecides() {
    double[] ours = {187.2, 188.1, 187.5, 188.4, 187.9};
    LossComparison.Paired p = LossComparison.of(ours, PEER, true).paired();
    assertEquals(-0.9373177758027003, p.meanPercent(), 1e-9);
    assertEquals(0.4399930398950344, p.sdPercent(), 1e-9);
    assertEquals(-4.763498676510312, p.t(), 1e-9);
    assertEquals(0.008882347396201815, p.p(), 1e-7);
    assertEquals(-1.483641292900597, p.lowPercent(), 1e-6);
    assertEquals(-0.39099425870480353, p.highPercent(), 1e-6);
    assertEquals(null, LossComparison.of(ours, PEER).paired(), "unpaired unless said");

    // losses like aae-mnist's over three paired seeds: the seeds' own spread (5 %) hides a 0.03 %
    // difference from Welch's test, not from the pairs
    double[] nativeLosses = {187.880, 176.641, 177.621};
    double[] peerLosses = {187.880, 176.658, 177.457};
    assertEquals(Verdict.CANNOT_TELL, LossComparison.of(nativeLosses, peerLosses, false).verdict());
    LossComparison c = LossComparison.of(nativeLosses, peerLosses, true);
    assertEquals(0.8484274300685963, c.paired().t(), 1e-9);
    assertEquals(0.48554914580849984, c.paired().p(), 1e-7);
    assertEquals(-0.11235998856847962, c.paired().lowPercent(), 1e-6);
    assertEquals(0.1675557491649291, c.paired().highPercent(), 1e-6);
    assertEquals(Verdict.WITHIN, c.verdict());
    assertTrue(c.lines().get(3).startsWith("paired by seed"), c.lines().toString());
    assertEquals("goal within 1%: met (the paired 95% interval lies inside ±1%)", c.lines().get(4));
  }

  @Test
  void anIntervalInsideOnePercentMeetsTheGoalWithUnequalCounts() {
    LossComparison c =
        LossComparison.of(
            new double[] {250.1, 249.0, 251.3}, new double[] {250.0, 251.2, 248.9, 250.5});
    assertEquals(1.1503622617824991, c.ours().sd(), 1e-9);
    assertEquals(0.9678154093971919, c.peer().sd(), 1e-9);
    assertEquals(3.9457461333795907, c.degreesOfFreedom(), 1e-9);
    assertEquals(0.9848026152609778, c.p(), 1e-7);
    assertEquals(-0.9237033824466753, c.lowPercent(), 1e-6);
    assertEquals(0.9103780443162324, c.highPercent(), 1e-6);
    assertEquals(Verdict.WITHIN, c.verdict());
    assertTrue(c.lines().get(2).endsWith("no difference beyond seed noise"), c.lines().get(2));
  }

  @Test
  void anIntervalBeyondOnePercentMissesTheGoal() {
    LossComparison c = LossComparison.of(new double[] {186.0, 186.3, 186.1, 186.4, 186.2}, PEER);
    assertEquals(-1.7932489451476823, c.differencePercent(), 1e-9);
    assertEquals(-2.405022793356574, c.lowPercent(), 1e-6);
    assertEquals(-1.1814750969387908, c.highPercent(), 1e-6);
    assertEquals(Verdict.OUTSIDE, c.verdict());
  }

  @Test
  void oneSeedASideGivesTheDifferenceAndSaysTheNoiseIsUnknown() {
    LossComparison c = LossComparison.of(new double[] {187.880}, new double[] {189.813});
    assertEquals(-1.0183706, c.differencePercent(), 1e-6);
    assertTrue(Double.isNaN(c.ours().sd()) && Double.isNaN(c.p()));
    assertEquals(Verdict.ONE_SEED, c.verdict());
    assertEquals(
        List.of(
            "test loss difference: -1.02%  (goal within 1%; one seed a side, so the seed noise is"
                + " unknown: --seeds N)"),
        c.lines());
    assertEquals("187.880", c.ours().text());
  }

  @Test
  void seedsThatAllGiveTheSameLossHaveNoNoiseToTestAgainst() {
    LossComparison same = LossComparison.of(new double[] {5, 5, 5}, new double[] {5, 5});
    assertEquals(1.0, same.p());
    assertEquals(Verdict.WITHIN, same.verdict());
    LossComparison apart = LossComparison.of(new double[] {5.2, 5.2}, new double[] {5, 5});
    assertEquals(4.0, apart.differencePercent(), 1e-9);
    assertEquals(0.0, apart.p());
    assertEquals(Verdict.OUTSIDE, apart.verdict());
  }
}
