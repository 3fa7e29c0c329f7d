package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.diagnostics.Alarms;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.LatentStats;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpVae;
import dev.latentstream.model.TensorData;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Latent diagnostics and the alarms built on them, from the model up to a whole run. */
class DiagnosticsTest {

  static Tensor testBatch(int n) {
    var test = TrainerTest.DATA.test();
    return TensorData.unitImages(test, n);
  }

  @Test
  void klPerDimensionSummedOverDimensionsEqualsTheModelsKlTerm() {
    torch.manual_seed(5);
    MlpVae model =
        new MlpVae(TrainerTest.job("{\"model\":\"vae\",\"hidden\":[32],\"latent\":6}"), 28, 28);
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Tensor x = testBatch(64);
      Losses losses = model.losses(x, x, 1);
      double kl = losses.terms().get("kl").item_double();
      LatentStats stats = new LatentStats(6, dev.latentstream.model.Losses::klTerm);
      stats.add(TensorData.floats(losses.codes()), TensorData.floats(losses.logVar()), 64);
      double sum = java.util.Arrays.stream(stats.klPerDimension()).sum();
      assertEquals(kl, sum, 1e-4 * Math.abs(kl));
      assertEquals(
          kl,
          Losses.klPerDimension(losses.codes(), losses.logVar()).sum().item_double(),
          1e-4 * Math.abs(kl));
    } finally {
      model.close();
    }
  }

  @Test
  void aLatentDimensionTheDecoderIgnoresShowsUpAsInactive() {
    torch.manual_seed(6);
    JobConfig job = TrainerTest.job("{\"model\":\"vae\",\"hidden\":[64],\"latent\":4}");
    MlpVae model = new MlpVae(job, 28, 28);
    Tensor decoderIn = model.named_parameters().get("decoder.linear0.weight");
    Adam adam = new Adam(model.parameters(), new AdamOptions(1e-2));
    var train = TrainerTest.DATA.train();
    Tensor all = TensorData.unitImages(train, train.count());
    try {
      for (int step = 0; step < 300; step++) {
        try (PointerScope scope = new PointerScope()) {
          try (NoGradGuard g = new NoGradGuard()) {
            decoderIn.select(1, 3).zero_(); // dimension 3 never reaches the decoder
          }
          Tensor x = all.narrow(0, (step * 32) % (train.count() - 32), 32);
          Losses l = model.losses(x, x, 1);
          adam.zero_grad();
          l.total().backward();
          adam.step();
        }
      }
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        decoderIn.select(1, 3).zero_();
        Autoencoder.Encoded e = model.encode(testBatch(128));
        LatentStats stats = new LatentStats(4, dev.latentstream.model.Losses::klTerm);
        stats.add(TensorData.floats(e.mean()), TensorData.floats(e.logVar()), 128);
        double[] variance = stats.meanVariance();
        double[] kl = stats.klPerDimension();
        assertTrue(
            variance[3] < LatentStats.ACTIVE_THRESHOLD,
            "ignored dimension's Cov_x(μ) " + variance[3]);
        assertTrue(kl[3] < Alarms.EPSILON * 5, "ignored dimension's KL " + kl[3]);
        Diagnostics d = stats.result(300, 1);
        assertTrue(d.activeUnits() >= 1 && d.activeUnits() <= 3, "active units " + d.activeUnits());
        double maxUsed = Math.max(kl[0], Math.max(kl[1], kl[2]));
        assertTrue(maxUsed > 0.5, "the dimensions the decoder sees carry information: " + maxUsed);
      }
    } finally {
      all.close();
      adam.close();
      model.close();
    }
  }

  static final class Warnings implements TrainingListener {
    final List<Warning> warnings = new ArrayList<>();
    final List<Diagnostics> diagnostics = new ArrayList<>();

    @Override
    public void onWarning(Warning w) {
      warnings.add(w);
    }

    @Override
    public void onDiagnostics(Diagnostics d) {
      diagnostics.add(d);
    }

    List<String> codes() {
      return warnings.stream().map(Warning::code).toList();
    }
  }

  static Warnings run(String spec, Path dir) {
    Warnings w = new Warnings();
    RunSummary s =
        new Trainer(
                TrainerTest.job(spec),
                TrainerTest.DATA,
                new Checkpoint(dir),
                Renderers.best(),
                w,
                false)
            .run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    return w;
  }

  @Test
  void theCollapseAlarmFiresWhenBetaForcesCollapseAndStaysQuietOnTheDefaultRun(
      @TempDir Path a, @TempDir Path b) {
    String spec =
        "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4,\"batchSize\":32,\"epochs\":3,"
            + "\"frameEverySteps\":0,\"diagnosticsEverySteps\":4,\"iwaeSamples\":0";
    Warnings collapsed = run(spec + ",\"beta\":50}", a);
    assertTrue(
        collapsed.codes().contains(Warning.POSTERIOR_COLLAPSE), collapsed.warnings.toString());
    Warning w = collapsed.warnings.get(collapsed.codes().indexOf(Warning.POSTERIOR_COLLAPSE));
    assertEquals("beta", w.setting());
    assertTrue(w.message().contains("try lowering beta"), w.message());

    Warnings healthy = run(spec + "}", b);
    assertFalse(healthy.codes().contains(Warning.POSTERIOR_COLLAPSE), healthy.warnings.toString());
    assertTrue(
        healthy.diagnostics.getLast().activeUnits() >= Alarms.collapseThreshold(4),
        "active units " + healthy.diagnostics.getLast().activeUnits());
  }

  @Test
  void diagnosticsArriveEveryDiagnosticsEveryStepsAndAtEachEpochEnd(@TempDir Path dir) {
    Warnings w =
        run(
            "{\"model\":\"ae\",\"hidden\":[64],\"latent\":3,\"batchSize\":32,\"epochs\":2,"
                + "\"frameEverySteps\":0,\"diagnosticsEverySteps\":5}",
            dir);
    // 16 steps an epoch: ticks at 0 (before training), 5, 10, 15, the end of epoch 1 (16), 20, 25,
    // 30 and 32.
    assertEquals(
        List.of(0L, 5L, 10L, 15L, 16L, 20L, 25L, 30L, 32L),
        w.diagnostics.stream().map(Diagnostics::step).toList());
    assertTrue(
        w.diagnostics.stream()
            .allMatch(d -> d.kind().equals(Diagnostics.VARIANCE) && d.values().length == 3));
  }
}
