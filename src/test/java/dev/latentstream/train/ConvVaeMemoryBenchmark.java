package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Split;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.model.TensorData;
import dev.latentstream.optim.Optim;
import dev.latentstream.optim.Optimizers;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.wire.EpochResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The conv VAE's resident memory over training steps, to find what grows: the process's {@code
 * VmRSS} and {@code VmHWM}, and JavaCPP's count and bytes of live native objects, printed every
 * {@code every} steps.
 *
 * <p>Modes: {@code steps} trains the preset's model with its step rule only (no test pass, frames
 * or diagnostics) on the first {@code images} training images; {@code trainer} runs the whole
 * {@link Trainer} (test pass, frames, diagnostics, checkpoints) for {@code epochs} epochs.
 *
 * <p>Run: {@code ./latentstream tool ConvVaeMemoryBenchmark MODE IMAGES STEPS_OR_EPOCHS EVERY
 * DATA_DIR [OVERRIDES]} (figures: {@code docs/benchmarks.md}).
 */
public final class ConvVaeMemoryBenchmark {

  private ConvVaeMemoryBenchmark() {}

  public static void main(String[] args) throws IOException {
    String mode = args.length > 0 ? args[0] : "steps";
    int images = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 500;
    int every = args.length > 3 ? Integer.parseInt(args[3]) : 50;
    Path dataDir = args.length > 4 ? Path.of(args[4]) : null;
    // Keys of the preset to override, as JSON: {"frameEverySteps":0,"iwaeSamples":0} and the like.
    io.vertx.core.json.JsonObject spec =
        new io.vertx.core.json.JsonObject(
            Files.readString(Path.of("config/jobs/conv-vae-2d-mnist.json")));
    if (args.length > 5) {
      spec.mergeIn(new io.vertx.core.json.JsonObject(args[5]));
    }
    JobConfig job = JobConfigs.parse(spec.encode(), "conv-vae-2d-mnist", "conv-vae-2d-mnist");
    System.out.println(spec.encode());
    Dataset full = Datasets.load(job.dataset(), dataDir);
    Dataset data =
        new Dataset(
            full.name(), head(full.train(), images), head(full.test(), images), full.classNames());
    Threads.configure(job, 2);
    print("start", 0);
    if (mode.equals("trainer")) {
      trainer(job, data, count, every);
    } else if (mode.equals("eval")) {
      eval(job, data.test(), count);
    } else {
      steps(job, data.train(), count, every);
    }
    print("end", -1);
  }

  private static void steps(JobConfig job, Split s, int steps, int every) {
    Tensor all = TensorData.unitImages(s, s.count());
    torch.manual_seed(job.seed());
    Autoencoder model = Models.create(job, s.rows(), s.cols());
    StepRule rule =
        new StepRule.Standard(
            model,
            Optimizers.create(
                job.optimizer(), model.parameters(), job.lr(), JobConfig.Engine.LIBTORCH));
    int batch = job.batchSize();
    int perEpoch = s.count() / batch;
    for (int i = 1; i <= steps; i++) {
      try (PointerScope scope = new PointerScope()) {
        rule.step(all.narrow(0, (long) (i % perEpoch) * batch, batch), job.beta(), 0);
      }
      if (i % every == 0) {
        print("step", i);
      }
    }
    rule.optimizers().forEach(Optim::close);
    model.close();
    all.close();
  }

  /** {@code times} test passes over the split, {@link TestScan#EVAL_BATCH} images at a time. */
  private static void eval(JobConfig job, Split s, int times) {
    Tensor all = TensorData.unitImages(s, s.count());
    torch.manual_seed(job.seed());
    Autoencoder model = Models.create(job, s.rows(), s.cols());
    for (int i = 1; i <= times; i++) {
      TestScan.run(
          model,
          all,
          s.count(),
          x -> {
            var losses = model.losses(x, x, job.beta(), 0);
            StepRule.checked("test", losses.total());
            return new TestScan.Coded(
                TensorData.floats(losses.codes()), TensorData.floats(losses.logVar()));
          });
      print("test pass", i);
    }
    model.close();
    all.close();
  }

  private static void trainer(JobConfig job, Dataset data, int epochs, int every)
      throws IOException {
    Path dir = Files.createTempDirectory("convmem");
    JobConfig short_ = job.withEpochs(epochs);
    Trainer t =
        new Trainer(
            short_,
            data,
            new Checkpoint(dir),
            Renderers.best(),
            TrainingListener.compose(
                new RunDirectoryWriter(dir),
                new TrainingListener() {
                  @Override
                  public void onStep(StepMetrics m) {
                    if (m.step() % every == 0) {
                      print("step", (int) m.step());
                    }
                  }

                  @Override
                  public void onEpoch(EpochResult r) {
                    print("epoch " + r.epoch(), (int) r.step());
                  }
                }),
            false);
    t.setCores(2);
    System.out.println(t.run());
  }

  private static Split head(Split s, int n) {
    int k = Math.min(n, s.count());
    return new Split(
        Arrays.copyOf(s.pixels(), k * s.imageSize()),
        Arrays.copyOf(s.labels(), k),
        k,
        s.rows(),
        s.cols());
  }

  private static void print(String what, int step) {
    System.out.printf(
        "%-10s %6d  rss %6d MiB  hwm %6d MiB  javacpp %6d objects %7.1f MiB (physical %6d MiB)"
            + "  heap %4d MiB  malloc in use %6d MiB%n",
        what,
        step,
        status("VmRSS") / 1024,
        status("VmHWM") / 1024,
        Pointer.totalCount(),
        Pointer.totalBytes() / 1048576.0,
        Pointer.physicalBytes() / 1048576,
        (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576,
        dev.latentstream.nativelib.NativeHeap.bytesInUse().orElse(-1) / 1048576);
  }

  private static long status(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }
}
