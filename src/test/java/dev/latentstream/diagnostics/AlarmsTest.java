package dev.latentstream.diagnostics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AlarmsTest {

  static Diagnostics kl(long step, int active, double... values) {
    return new Diagnostics(step, 1, Diagnostics.KL, values, active, 1, 1);
  }

  @Test
  void posteriorCollapseIsRaisedOnceWhenItStartsAndPointsAtBetaWhenBetaIsHigh() {
    Alarms a = new Alarms(20, true, 50);
    double[] flat = new double[20];
    flat[0] = 3;
    List<Warning> first = a.epochEnd(100, 1, kl(100, 1, flat), 200);
    assertEquals(1, first.size());
    Warning w = first.getFirst();
    assertEquals(Warning.POSTERIOR_COLLAPSE, w.code());
    assertEquals("beta", w.setting());
    assertEquals(
        "only 1 of 20 latent dimensions is active; try lowering beta (now 50.00) or setting freeBits",
        w.message());
    assertEquals(
        List.of(), a.epochEnd(200, 2, kl(200, 1, flat), 190), "not again while it persists");
  }

  @Test
  void collapseWithoutAHighBetaPointsAtFreeBits() {
    Alarms a = new Alarms(4, true, 1);
    List<Warning> w = a.epochEnd(10, 1, kl(10, 0, 0, 0, 0, 0), 100);
    assertEquals("freeBits", w.getFirst().setting());
  }

  @Test
  void dimensionsQuietForAWholeEpochAreReportedWhenTheirNumberGrows() {
    Alarms a = new Alarms(4, true, 1);
    a.tick(kl(5, 3, 1, 1, 1, 0.001));
    List<Warning> w = a.epochEnd(10, 1, kl(10, 3, 1, 1, 1, 0.002), 100);
    assertEquals(1, w.size());
    assertEquals(Warning.INACTIVE_DIMENSIONS, w.getFirst().code());
    assertTrue(
        w.getFirst().message().startsWith("1 of 4 latent dimensions"), w.getFirst().message());
    assertEquals("freeBits", w.getFirst().setting());
    // A dimension that was quiet at one tick only does not count.
    a.tick(kl(15, 3, 1, 1, 0.001, 0.001));
    assertEquals(List.of(), a.epochEnd(20, 2, kl(20, 3, 1, 1, 1, 0.001), 99));
  }

  @Test
  void aTestLossRisingThreeEpochsInARowPointsAtTheLearningRate() {
    Alarms a = new Alarms(4, false, 1);
    double[] losses = {100, 90, 95, 97, 99, 101};
    List<Warning> raised = new java.util.ArrayList<>();
    for (int e = 0; e < losses.length; e++) {
      raised.addAll(a.epochEnd(e, e + 1, null, losses[e]));
    }
    assertEquals(1, raised.size(), "raised once, when the third rise happens: " + raised);
    assertEquals(Warning.TEST_LOSS_RISING, raised.getFirst().code());
    assertEquals(5, raised.getFirst().epoch());
    assertEquals("lr", raised.getFirst().setting());
  }

  @Test
  void aHealthyRunRaisesNothing() {
    Alarms a = new Alarms(4, true, 1);
    for (int e = 1; e <= 5; e++) {
      a.tick(kl(e * 10 - 5, 4, 2, 1, 0.5, 0.3));
      assertEquals(List.of(), a.epochEnd(e * 10, e, kl(e * 10, 4, 2, 1, 0.5, 0.3), 100 - e));
    }
  }
}
