package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Datasets;
import dev.latentstream.model.Models;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.testing.SyntheticIdx;
import dev.latentstream.train.RunSummary;
import dev.latentstream.train.Trainer;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conv VAE's Python peer ({@code conv_vae_reference.py}) and ours are one computation, so what
 * {@code bench} compares is the arithmetic, not the luck of the draws. At the same seed both start
 * from the same weights: libtorch's and torch's CPU generators draw the same numbers, and both
 * initialise every layer with PyTorch's default, {@code kaiming_uniform_(a=√5)} weights and
 * uniform(±1/√fan_in) biases. And since the peer seeds each epoch as {@code EpochLoop} does, an
 * epoch on the same images sees the same batches with the same noise and ends at the same losses,
 * up to float rounding (oneDNN 2.6 under the peer's torch 1.13, 3.7 under our libtorch 2.10). With
 * independent draws the two sides' test losses after one MNIST epoch differed by several per cent
 * either way (docs/benchmarks.md). Runs Debian's Python with torch, which the machines here have.
 */
class PeerParityTest {

  @TempDir static Path data;
  @TempDir Path tmp;

  static final Path PRESET = Path.of("config/jobs/conv-vae-2d-mnist.json");

  @BeforeAll
  static void writeDataset() throws Exception {
    SyntheticIdx.write(data, 256, 64, 7);
  }

  /**
   * The preset on the synthetic images, for {@code epochs} epochs and an IWAE bound of {@code k}
   * samples after them, no frames, on one thread.
   */
  static JobConfig preset(int epochs, int k) throws Exception {
    ObjectNode spec = (ObjectNode) JobConfigs.JSON.readTree(Files.readString(PRESET));
    spec.put("dataset", data.toString());
    spec.put("epochs", epochs);
    spec.put("threads", 1);
    spec.put("frameEverySteps", 0);
    spec.put("iwaeSamples", k);
    return JobConfigs.parse(spec.toString(), "test", "conv-vae-parity");
  }

  @Test
  void theConvPeerStartsFromOurInitialWeightsAtTheSameSeed() throws Exception {
    JobConfig job = preset(1, 0);
    JsonNode theirs =
        JobConfigs.JSON.readTree(BenchCommandTest.runPeer(tmp, job, "--layout")).get("layout");
    try (PointerScope scope = new PointerScope()) {
      Models.Seeded ours = Models.seeded(job, 28, 28);
      var named = ours.model().named_parameters();
      assertEquals(named.size(), theirs.size(), "parameters");
      for (int i = 0; i < named.size(); i++) {
        String name = named.get(i).key().getString();
        Tensor p = named.get(i).value();
        assertEquals(name, theirs.get(i).get(0).asText(), "parameter " + i);
        double sum = p.to(torch.ScalarType.Double).sum().item_double();
        double peer = theirs.get(i).get(2).asDouble();
        assertEquals(peer, sum, 1e-9 * Math.max(1, Math.abs(peer)), name + ": sum of its values");
      }
    }
  }

  /**
   * PyTorch's default initialisation, layer by layer, in our model: every weight within ±1/√fan_in
   * and spread uniformly over it (standard deviation bound/√3), fan_in being a convolution's input
   * channels times 3×3, a linear layer's inputs, and for the transposed convolution its weight's
   * second dimension (its output channels) times 3×3, as PyTorch counts it.
   */
  @Test
  void everyLayerIsInitialisedAsPyTorchsDefault() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Models.Seeded ours = Models.seeded(preset(1, 0), 28, 28);
      var named = ours.model().named_parameters();
      for (int i = 0; i < named.size(); i += 2) {
        String layer = named.get(i).key().getString().replace(".weight", "");
        Tensor w = named.get(i).value();
        Tensor b = named.get(i + 1).value();
        double fanIn = w.size(1) * (w.dim() == 4 ? w.size(2) * w.size(3) : 1);
        double bound = 1 / Math.sqrt(fanIn);
        for (Tensor t : List.of(w, b)) {
          double max = t.abs().max().item_double();
          assertTrue(max <= bound * (1 + 1e-6), layer + ": |value| " + max + " > " + bound);
        }
        if (w.numel() >= 288) {
          double std = w.to(torch.ScalarType.Double).std().item_double();
          assertEquals(bound / Math.sqrt(3), std, 0.1 * bound / Math.sqrt(3), layer + ": std");
          assertTrue(w.abs().max().item_double() > 0.95 * bound, layer + ": reaches its bound");
        }
      }
    }
  }

  /** The losses of each epoch and the IWAE bound after the last, on both sides. */
  @Test
  void pairedDrawsEndEachEpochAtThePeersLosses() throws Exception {
    JobConfig job = preset(2, 4);
    List<EpochResult> ours = new ArrayList<>();
    Trainer t =
        new Trainer(
            job,
            Datasets.load(data.toString(), null),
            new Checkpoint(tmp.resolve("run")),
            Renderers.best(),
            new TrainingListener() {
              @Override
              public void onEpoch(EpochResult r) {
                ours.add(r);
              }
            },
            false);
    t.setCores(1);
    RunSummary s = t.run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    List<JsonNode> theirs = new ArrayList<>();
    String out =
        BenchCommandTest.runPeer(tmp, job, "--data", data.toString(), "--threads", "1").strip();
    for (String line : out.split("\n")) {
      JsonNode n = JobConfigs.JSON.readTree(line);
      if (n.has("epoch")) {
        theirs.add(n);
      }
    }
    assertEquals(2, theirs.size(), out);
    double iwae = JobConfigs.JSON.readTree(out.split("\n")[2]).get("iwae").asDouble();
    assertEquals(
        iwae, s.iwae(), 1e-4 * Math.abs(iwae), "IWAE bound (K = 4), ours against the peer's");
    for (int e = 0; e < 2; e++) {
      double trainOurs = ours.get(e).trainTerms().get("loss");
      double trainPeer = theirs.get(e).get("train_loss").asDouble();
      double testOurs = ours.get(e).testLoss();
      double testPeer = theirs.get(e).get("test_loss").asDouble();
      String both = "epoch " + (e + 1) + ": ours " + trainOurs + " / " + testOurs;
      both += ", the peer's " + trainPeer + " / " + testPeer;
      assertEquals(trainPeer, trainOurs, 1e-4 * trainPeer, "train loss, " + both);
      assertEquals(testPeer, testOurs, 1e-4 * testPeer, "test loss, " + both);
    }
  }
}
