package dev.latentstream.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.model.MlpVae;
import dev.latentstream.nativelib.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.RMSprop;
import org.bytedeco.pytorch.RMSpropOptions;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One Adam layout for both engines: a state saved by either optimiser and loaded by the other
 * continues exactly as the saver would have (the same weights after ten more steps), and
 * FusedAdam's former layout still loads into both.
 */
class AdamStateTest {

  static Optim libtorch(MlpVae m) {
    return new Optimizers.Libtorch(new Adam(m.parameters(), new AdamOptions(1e-2)));
  }

  static Optim fused(MlpVae m) {
    return new FusedAdam(m.parameters(), 1e-2, Kernels.training());
  }

  /** Saves {@code o} to a file and reads it back, as a checkpoint does. */
  static InputArchive roundTrip(java.util.function.Consumer<OutputArchive> save, Path dir) {
    OutputArchive out = new OutputArchive();
    save.accept(out);
    String f = dir.resolve("optim-" + System.nanoTime() + ".pt").toString();
    out.save_to(f);
    InputArchive in = new InputArchive();
    in.load_from(f);
    return in;
  }

  /**
   * Trains a model 10 steps with {@code first}, moves weights and state to {@code second}, trains
   * 10 more.
   */
  static TensorVector handOver(boolean fusedFirst, boolean fusedSecond, Path dir) {
    MlpVae a = FusedAdamTest.model();
    Optim first = fusedFirst ? fused(a) : libtorch(a);
    FusedAdamTest.train(a, first);
    InputArchive state = roundTrip(first::save, dir);
    MlpVae b = FusedAdamTest.model();
    TensorVector pa = a.parameters();
    TensorVector pb = b.parameters();
    for (long i = 0; i < pa.size(); i++) {
      pb.get(i).detach().copy_(pa.get(i));
    }
    Optim second = fusedSecond ? fused(b) : libtorch(b);
    second.load(state);
    assertEquals(1e-2, second.learningRate(), 1e-15);
    FusedAdamTest.train(b, second);
    return b.parameters();
  }

  static double worst(TensorVector a, TensorVector b) {
    double worst = 0;
    for (long i = 0; i < a.size(); i++) {
      worst = Math.max(worst, a.get(i).sub(b.get(i)).abs().max().item_double());
    }
    return worst;
  }

  @Test
  void eitherAdamContinuesFromTheOthersState(@TempDir Path dir) {
    TensorVector torchThroughout = handOver(false, false, dir);
    TensorVector fusedThroughout = handOver(true, true, dir);
    // Lost moments would restart Adam's bias correction: the weights would differ by about lr per
    // step.
    assertTrue(worst(torchThroughout, handOver(true, false, dir)) < 1e-4, "fused, then libtorch");
    assertTrue(worst(fusedThroughout, handOver(false, true, dir)) < 1e-4, "libtorch, then fused");
    MlpVae fresh = FusedAdamTest.model();
    Optim restarted = libtorch(fresh);
    FusedAdamTest.train(fresh, restarted);
    FusedAdamTest.train(fresh, libtorch(fresh));
    assertTrue(
        worst(torchThroughout, fresh.parameters()) > 1e-3,
        "a restarted Adam ends elsewhere: the test can fail");
  }

  @Test
  void theFormerFusedLayoutLoadsIntoBothAdams(@TempDir Path dir) {
    MlpVae a = FusedAdamTest.model();
    FusedAdam trained = (FusedAdam) fused(a);
    FusedAdamTest.train(a, trained);
    InputArchive old = roundTrip(out -> trained.saveFormerLayout(out), dir);
    MlpVae b = FusedAdamTest.model();
    Optim torch = libtorch(b);
    torch.load(old);
    InputArchive again = roundTrip(torch::save, dir);
    AdamState.Values v = AdamState.read(again, 10);
    AdamState.Values want = AdamState.read(roundTrip(trained::save, dir), 10);
    assertEquals(want.step(), v.step());
    assertEquals(30, v.step());
    for (int i = 0; i < 10; i++) {
      assertTrue(want.expAvg()[i].equal(v.expAvg()[i]), "exp_avg of parameter " + i);
      assertTrue(want.expAvgSq()[i].equal(v.expAvgSq()[i]), "exp_avg_sq of parameter " + i);
    }
  }

  @Test
  void aStateOfAnotherShapeOrOptimiserIsRefusedNamingWhy(@TempDir Path dir) throws Exception {
    MlpVae a = FusedAdamTest.model();
    Optim rms = new Optimizers.Libtorch(new RMSprop(a.parameters(), new RMSpropOptions(1e-2)));
    FusedAdamTest.train(a, rms);
    InputArchive state = roundTrip(rms::save, dir);
    Exception e =
        assertThrows(RuntimeException.class, () -> fused(FusedAdamTest.model()).load(state));
    assertTrue(Files.exists(dir), e.getMessage());
    InputArchive adam = roundTrip(fused(a)::save, dir);
    IllegalArgumentException count =
        assertThrows(IllegalArgumentException.class, () -> AdamState.read(adam, 4));
    assertTrue(
        count.getMessage().contains("Adam state for 10 parameters, the model has 4"),
        count.getMessage());
  }
}
