package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.model.AdversarialAutoencoder;
import dev.latentstream.model.Losses;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The AAE's step trains exactly as the three phases written out the peer's way ({@code
 * aae_reference.py}), which encodes the batch once per phase: the step's single encoder pass for
 * the discriminator and generator phases changes no bit of the losses or weights.
 */
class AdversarialStepTest {

  static final String AAE =
      "{\"model\":\"aae\",\"hidden\":[64,32],\"latent\":2,\"engine\":\"libtorch\","
          + "\"discriminator\":{\"hidden\":[32,16],\"lr\":0.0002}}";

  static AdversarialAutoencoder model() {
    torch.manual_seed(7);
    return new AdversarialAutoencoder(TrainerTest.job(AAE), 28, 28);
  }

  @Test
  void oneEncoderPassForTheDiscriminatorAndGeneratorGivesTheSameRunAsOnePerPhase() {
    AdversarialAutoencoder a = model();
    AdversarialAutoencoder b = model();
    StepRule rule = StepRule.forModel(a);
    assertTrue(rule instanceof StepRule.Adversarial, "the aae takes the adversarial step");
    assertEquals(JobConfig.Engine.LIBTORCH, rule.engine());
    PeerStep peer = new PeerStep(b);
    var train = TrainerTest.DATA.train();
    Tensor all = TensorData.unitImages(train, 256);
    try {
      for (int i = 0; i < 12; i++) {
        try (PointerScope s = new PointerScope()) {
          Tensor x = all.narrow(0, (i * 32) % 256, 32);
          torch.manual_seed(100 + i);
          Map<String, Double> expected = peer.step(x);
          torch.manual_seed(100 + i);
          Map<String, Double> actual = rule.step(x, 1, 0);
          assertEquals(expected, actual, "loss terms at step " + i);
        }
      }
      var pa = a.parameters();
      var pb = b.parameters();
      assertEquals(pb.size(), pa.size());
      for (long i = 0; i < pa.size(); i++) {
        try (PointerScope s = new PointerScope()) {
          assertTrue(pa.get(i).equal(pb.get(i)), "parameter " + i + " differs");
        }
      }
    } finally {
      all.close();
      rule.optimizers().forEach(Optim::close);
      peer.optimizers().forEach(Optim::close);
      a.close();
      b.close();
    }
  }

  /**
   * The generator phase's backward stops at the encoder: the discriminator's gradients are those of
   * its own phase, not those plus the generator loss's, which it would drop unused.
   */
  @Test
  void theGeneratorPhaseComputesNoGradientForTheDiscriminator() {
    AdversarialAutoencoder a = model();
    AdversarialAutoencoder b = model();
    StepRule rule = StepRule.forModel(a);
    PeerStep peer = new PeerStep(b);
    Tensor all = TensorData.unitImages(TrainerTest.DATA.train(), 32);
    try (PointerScope s = new PointerScope()) {
      List<Tensor> afterItsPhase = new ArrayList<>();
      torch.manual_seed(100);
      peer.step(all, afterItsPhase);
      torch.manual_seed(100);
      rule.step(all, 1, 0);
      var params = a.discriminatorModule().parameters();
      assertEquals(afterItsPhase.size(), params.size());
      for (int i = 0; i < afterItsPhase.size(); i++) {
        assertTrue(
            params.get(i).grad().equal(afterItsPhase.get(i)),
            "discriminator gradient " + i + " is its own phase's");
      }
    } finally {
      all.close();
      rule.optimizers().forEach(Optim::close);
      peer.optimizers().forEach(Optim::close);
      a.close();
      b.close();
    }
  }

  /** The three phases as the peer writes them, each with its own encoder pass. */
  record PeerStep(AdversarialAutoencoder model, Optim recon, Optim disc, Optim gen) {
    PeerStep(AdversarialAutoencoder model) {
      this(
          model,
          optimizer(
              model,
              Optimizers.concat(
                  model.encoderModule().parameters(), model.decoderModule().parameters()),
              model.job().lr()),
          optimizer(
              model, model.discriminatorModule().parameters(), model.job().discriminator().lr()),
          optimizer(model, model.encoderModule().parameters(), model.job().lr()));
    }

    static Optim optimizer(
        AdversarialAutoencoder model, org.bytedeco.pytorch.TensorVector params, double lr) {
      return Optimizers.create(model.job().optimizer(), params, lr, JobConfig.Engine.LIBTORCH);
    }

    List<Optim> optimizers() {
      return List.of(recon, disc, gen);
    }

    Map<String, Double> step(Tensor x) {
      return step(x, null);
    }

    /**
     * One step; {@code discGrads}, when given, receives copies of the discriminator's gradients as
     * its own phase left them.
     */
    Map<String, Double> step(Tensor x, List<Tensor> discGrads) {
      Losses r = model.losses(x, x, 0);
      double reconValue = r.total().item_double();
      descend(recon, r.total());
      Tensor prior =
          torch.randn(
              new long[] {x.size(0), model.latentDim()},
              model.draws(),
              new org.bytedeco.pytorch.TensorOptions(x.device()));
      Tensor d = model.discriminatorLoss(prior, model.encode(x).mean());
      double discValue = d.item_double();
      descend(disc, d);
      if (discGrads != null) {
        var params = model.discriminatorModule().parameters();
        for (long i = 0; i < params.size(); i++) {
          discGrads.add(params.get(i).grad().clone());
        }
      }
      Tensor g = model.generatorLoss(model.encode(x).mean());
      double genValue = g.item_double();
      descend(gen, g);
      return Map.of("recon", reconValue, "disc", discValue, "gen", genValue, "loss", reconValue);
    }

    private static void descend(Optim optimizer, Tensor loss) {
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    }
  }
}
