package dev.latentstream.rundir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import dev.latentstream.train.Devices;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's tensors load onto the device of the model they are loaded into, whatever device
 * wrote them (PyTorch's {@code map_location}), so a run moves between the CPU and CUDA.
 *
 * <p>This machine has no GPU, so the mapping itself is tested with libtorch's {@code meta} device,
 * which every build has: every tensor of a checkpoint saved from the CPU and opened for {@code
 * meta} must come back on {@code meta} (without the mapping they come back on the CPU, which this
 * test sees). A model cannot be moved to {@code meta} ({@code Module.to} refuses), so the loading
 * of a whole model and its Adam is tested on the device the job names, and across CPU and CUDA
 * where libtorch sees a GPU.
 */
class CheckpointDeviceTest {

  static final JobConfig JOB =
      CheckpointTest.JOB.withEpochs(1).withEngine(JobConfig.Engine.LIBTORCH);

  /** A run trained on the CPU for one epoch: weights and Adam's moments in its checkpoint. */
  static Path cpuRun(Path dir) {
    CheckpointTest.train(JOB, dir, false);
    return dir;
  }

  /**
   * Loads {@code dir}'s checkpoint into a fresh model and libtorch Adam on {@code device}, then
   * checks every weight is there and takes one Adam step, which fails unless Adam's moments are on
   * the same device as the weights.
   */
  static void loadsOnto(Path dir, Device device) {
    try (Autoencoder model =
        Models.create(
            JOB, CheckpointTest.DATA.train().rows(), CheckpointTest.DATA.train().cols())) {
      model.to(device, false);
      Optim adam =
          Optimizers.create(
              JobConfig.OptimizerType.adam, model.parameters(), 1e-3, JobConfig.Engine.LIBTORCH);
      try (PointerScope scope = new PointerScope()) {
        Checkpoint.Progress p = Checkpoint.load(dir, model, List.of(adam));
        assertEquals(1, p.epoch());
        TensorVector params = model.parameters();
        for (long i = 0; i < params.size(); i++) {
          assertEquals(
              name(device),
              name(params.get(i).device()),
              "parameter " + i + " stays on " + device.str().getString());
        }
        Tensor sum = params.get(0).sum();
        for (long i = 1; i < params.size(); i++) {
          sum = sum.add(params.get(i).sum());
        }
        sum.backward();
        adam.step();
        for (long i = 0; i < params.size(); i++) {
          assertEquals(name(device), name(params.get(i).device()), "after a step");
        }
      } finally {
        adam.close();
      }
    }
  }

  @Test
  void everyTensorOfACpuCheckpointIsReadOntoTheDeviceAskedFor(@TempDir Path dir) {
    Device meta = new Device(DeviceType.Meta);
    try (PointerScope scope = new PointerScope()) {
      InputArchive root = Checkpoint.open(Checkpoint.file(cpuRun(dir)), meta);
      List<String> read = new ArrayList<>();
      tensors(
          root,
          "",
          (key, t) -> {
            assertEquals("meta", t.device().str().getString(), key);
            read.add(key);
          });
      assertTrue(
          read.stream().anyMatch(k -> k.startsWith("model/")), "the model's weights: " + read);
      assertTrue(
          read.stream().anyMatch(k -> k.startsWith("optim0/") && k.contains("exp_avg")),
          "Adam's moments: " + read);
    }
  }

  /** Calls {@code each} with every tensor in {@code archive} and its nested archives. */
  static void tensors(InputArchive archive, String prefix, BiConsumer<String, Tensor> each) {
    StringVector keys = archive.keys();
    for (long i = 0; i < keys.size(); i++) {
      String key = keys.get(i).getString();
      Tensor t = new Tensor();
      InputArchive nested = new InputArchive();
      if (archive.try_read(key, t)) {
        each.accept(prefix + key, t);
      } else if (archive.try_read(key, nested)) {
        tensors(nested, prefix + key + "/", each);
      }
    }
  }

  static String name(Device d) {
    return d.str().getString();
  }

  @Test
  void aCpuCheckpointLoadsOntoTheDeviceTheJobNames(@TempDir Path dir) {
    loadsOnto(cpuRun(dir), Devices.resolve(JOB.device()));
  }

  @Test
  void aCpuCheckpointLoadsOntoCuda(@TempDir Path dir) {
    Assumptions.assumeTrue(
        Devices.cudaAvailable(), "libtorch sees no CUDA device (the CPU build, or no GPU)");
    loadsOnto(cpuRun(dir), new Device("cuda:0"));
  }

  @Test
  void aCudaCheckpointLoadsOntoTheCpu(@TempDir Path dir) {
    Assumptions.assumeTrue(
        Devices.cudaAvailable(), "libtorch sees no CUDA device (the CPU build, or no GPU)");
    JobConfig onCuda =
        dev.latentstream.config.JobConfigs.parse(
            "{\"model\":\"vae\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,"
                + "\"epochs\":1,\"frameEverySteps\":0,\"iwaeSamples\":0,"
                + "\"engine\":\"libtorch\",\"device\":\"cuda:0\"}",
            "t",
            "t");
    CheckpointTest.train(onCuda, dir, false);
    loadsOnto(dir, new Device(DeviceType.CPU));
  }
}
