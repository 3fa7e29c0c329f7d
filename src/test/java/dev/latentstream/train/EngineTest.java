package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfig.Engine;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code engine} job key: what each value runs, what a run reports, and what {@code native}
 * refuses.
 */
class EngineTest {

  static JobConfig vae(Engine engine) {
    return TrainerTest.job(TrainerTest.TINY_VAE.replace("}", ",\"iwaeSamples\":0}"))
        .withEngine(engine);
  }

  @Test
  void libtorchRunsAutogradAndLibtorchsOptimiserOnTheVae() {
    try (Autoencoder model = Models.create(vae(Engine.LIBTORCH), 28, 28)) {
      StepRule rule = StepRule.forModel(model, 2);
      assertInstanceOf(StepRule.Standard.class, rule);
      assertTrue(rule.optimizers().stream().noneMatch(Optimizers::isNative), "libtorch's own Adam");
      assertEquals(Engine.LIBTORCH, rule.engine());
      rule.optimizers().forEach(Optim::close);
    }
  }

  @Test
  void nativeAndAutoRunTheHandWrittenStepOnTheVae() {
    for (Engine e : new Engine[] {Engine.NATIVE, Engine.AUTO}) {
      try (Autoencoder model = Models.create(vae(e), 28, 28)) {
        StepRule rule = StepRule.forModel(model, 1);
        assertInstanceOf(MlpVaeStep.class, rule, e.wireName());
        assertEquals(Engine.NATIVE, rule.engine());
        rule.close();
        rule.optimizers().forEach(Optim::close);
      }
    }
  }

  @Test
  void aRunReportsTheEngineItRanInItsStartAndInJobJson(@TempDir Path a, @TempDir Path b)
      throws IOException {
    TrainerTest.Recorder torch = TrainerTest.train(vae(Engine.LIBTORCH), a, false);
    TrainerTest.Recorder auto = TrainerTest.train(vae(Engine.AUTO), b, false);
    assertEquals(Engine.LIBTORCH, torch.start.engine());
    assertEquals(
        Engine.NATIVE, auto.start.engine(), "auto chose the hand-written step for the MLP VAE");
    assertEquals(
        "libtorch",
        JobConfigs.JSON.readTree(a.resolve("job.json").toFile()).at("/result/engine").asText());
    assertEquals(
        "native",
        JobConfigs.JSON.readTree(b.resolve("job.json").toFile()).at("/result/engine").asText());
    // job.json stays a job file: the spec's own engine, with the result beside it.
    assertEquals(Engine.AUTO, JobConfigs.load(b.resolve("job.json")).engine());
    // The two engines compute the same objective from the same random draws.
    double t = torch.epochs.getLast().testLoss();
    double n = auto.epochs.getLast().testLoss();
    assertEquals(t, n, 0.005 * t, "test loss libtorch " + t + " vs native " + n);
  }

  @Test
  void nativeOnAJobWithoutHandWrittenKernelsFailsNamingTheReason(@TempDir Path dir) {
    JobConfig conv =
        JobConfigs.parse(
            "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[4,8],\"dense\":16},"
                + "\"batchSize\":32,\"epochs\":1,\"frameEverySteps\":0,\"iwaeSamples\":0,\"engine\":\"native\"}",
            "t",
            "t");
    TrainerTest.Recorder r = TrainerTest.train(conv, dir, false);
    assertEquals(RunSummary.Status.FAILED, r.summary.status());
    String error = r.summary.error();
    assertTrue(
        error.contains("engine \"native\" cannot run this job")
            && error.contains("conv-vae with rmsprop"),
        error);
    try (Autoencoder model = Models.create(conv, 28, 28)) {
      assertThrows(IllegalArgumentException.class, () -> StepRule.forModel(model, 1));
    }
  }

  @Test
  void adamJobsOtherThanTheVaeTakeTheHandWrittenAdamOnNativeOnly() {
    JobConfig ae = JobConfigs.parse("{\"model\":\"ae\",\"hidden\":[32],\"latent\":4}", "t", "t");
    for (Engine e : Engine.values()) {
      try (Autoencoder model = Models.create(ae.withEngine(e), 28, 28)) {
        StepRule rule = StepRule.forModel(model, 1);
        assertEquals(
            e == Engine.LIBTORCH ? Engine.LIBTORCH : Engine.NATIVE, rule.engine(), e.wireName());
        rule.optimizers().forEach(Optim::close);
      }
    }
  }
}
