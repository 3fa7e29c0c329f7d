package dev.latentstream.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Split;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Iwae;
import dev.latentstream.model.Losses;
import dev.latentstream.model.MlpAutoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.model.VariationalAutoencoder;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.train.Threads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code latentstream evaluate}: the importance-weighted bound on log p(x) of a run's latest
 * checkpoint over its dataset's test set, in nats per image (vae and conv-vae trained with the bce
 * loss). The model and its tensors belong to the main thread and are freed before it returns.
 */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description =
        "Report the IWAE bound on log p(x) of a run's latest checkpoint over the test set.")
public final class EvaluateCommand implements Callable<Integer> {

  static final int MAX_K = 5000;

  @Mixin RunOption runOption;

  @Option(
      names = "--iwae",
      paramLabel = "K",
      defaultValue = "5000",
      description =
          "Importance samples per image, 1 (the ELBO) to 5000 (default: ${DEFAULT-VALUE}). "
              + "K=5000 over a whole 10,000-image test set is minutes of work on a small machine: see --limit.")
  int k;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "Seed for the samples (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Use only the first N test images (the time is proportional to N x K).")
  Integer limit;

  @Option(
      names = "--rows",
      paramLabel = "N",
      defaultValue = "16384",
      description =
          "Decoder rows per chunk (images x samples); bounds memory (default: ${DEFAULT-VALUE}).")
  int rows;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Where to find the run's dataset.")
  Path dataDir;

  @Option(names = "--plain", description = "No progress bar, even on a terminal.")
  boolean plain;

  @Option(
      names = "--batch",
      paramLabel = "N",
      description =
          "Instead of the IWAE bound: the loss on the first N test images (1 to 1000) with the noise it "
              + "drew, and their reconstructions (VAEs: of the posterior mean), as JSON to --json; what an exported "
              + "model must reproduce.")
  Integer batch;

  @Option(names = "--json", paramLabel = "FILE", description = "Where --batch writes its JSON.")
  Path json;

  @Override
  public Integer call() {
    if (batch != null || json != null) {
      return reference();
    }
    validate();
    Path run = runOption.withCheckpoint();
    JobConfig job = Checkpoint.readProgress(run).job();
    if (!Iwae.applies(job)) {
      throw new UserError(
          "the IWAE bound needs a vae or conv-vae trained with the bce loss; "
              + run
              + " holds a "
              + job.model().wireName()
              + " with the "
              + job.loss()
              + " loss");
    }
    Threads.configure(job);
    Dataset data = Datasets.load(job.dataset(), dataDir);
    Split test = data.test();
    int n = limit == null ? test.count() : Math.min(limit, test.count());
    System.out.printf(
        Locale.ROOT,
        "IWAE bound of %s (%s) with K=%d on %d test images of %s%n",
        run,
        job.model().wireName(),
        k,
        n,
        job.dataset());
    long t0 = System.nanoTime();
    double bound = bound(run, test, n);
    System.out.printf(
        Locale.ROOT,
        "log p(x) >= %.3f nats per image (IWAE, K=%d), %.1f s%n",
        bound,
        k,
        (System.nanoTime() - t0) / 1e9);
    return 0;
  }

  private void validate() {
    if (k < 1 || k > MAX_K) {
      throw new UserError("--iwae must be from 1 to " + MAX_K + ", got " + k);
    }
    if (limit != null && limit < 1) {
      throw new UserError("--limit must be at least 1, got " + limit);
    }
    if (rows < 1) {
      throw new UserError("--rows must be at least 1, got " + rows);
    }
  }

  /** The bound over the first {@code n} images of {@code test}, with progress as it goes. */
  private double bound(Path run, Split test, int n) {
    try (Autoencoder model = Checkpoint.loadModel(run);
        PointerScope scope = new PointerScope()) {
      model.eval();
      torch.manual_seed(seed);
      Tensor images = TensorData.unitImages(test, n);
      try (ProgressBar progress = !plain && ConsoleProgress.isTerminal() ? progressBar(n) : null) {
        int[] lastPrinted = {0};
        return Iwae.bound(
            Iwae.of(model),
            images,
            k,
            rows,
            done -> {
              if (progress != null) {
                progress.stepTo(done);
              } else if (done - lastPrinted[0] >= Math.max(1, n / 10) || done == n) {
                lastPrinted[0] = done;
                System.out.printf(Locale.ROOT, "  %d/%d images%n", done, n);
              }
            });
      }
    }
  }

  private static ProgressBar progressBar(int n) {
    return new ProgressBarBuilder()
        .setTaskName("iwae")
        .setInitialMax(n)
        .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
        .setUnit(" images", 1)
        .showSpeed()
        .build();
  }

  /**
   * {@code --batch}: the first N test images, the model's loss on them as training defines it (the
   * spec's β and free bits; the corruption of a denoising model and the VAE's ε drawn from {@code
   * --seed} and written out), and the reconstructions. Everything another implementation needs to
   * check itself against this one.
   */
  private int reference() {
    if (batch == null || json == null) {
      throw new UserError("--batch N and --json FILE go together");
    }
    if (batch < 1 || batch > 1000) {
      throw new UserError("--batch must be from 1 to 1000, got " + batch);
    }
    Path run = runOption.withCheckpoint();
    JobConfig job = Checkpoint.readProgress(run).job();
    Threads.configure(job);
    Split test = Datasets.load(job.dataset(), dataDir).test();
    int n = Math.min(batch, test.count());
    ObjectNode root = JobConfigs.JSON.createObjectNode();
    try (Checkpoint.Loaded loaded = Checkpoint.loadModelWithProgress(run);
        PointerScope scope = new PointerScope();
        NoGradGuard noGrad = new NoGradGuard()) {
      Autoencoder model = loaded.model();
      model.eval();
      torch.manual_seed(seed);
      Tensor x = TensorData.unitImages(test, n);
      Drawn drawn = losses(model, job, x);
      root.put("model", job.model().wireName());
      root.put("step", loaded.progress().step());
      ObjectNode terms = root.putObject("terms");
      drawn.losses().terms().forEach((name, t) -> terms.put(name, t.item_double()));
      rows(root.putArray("images"), TensorData.floats(x), test.imageSize());
      if (drawn.noise() != null) {
        rows(root.putArray("noise"), TensorData.floats(drawn.noise()), (int) drawn.noise().size(1));
      }
      rows(
          root.putArray("reconstructions"),
          TensorData.floats(model.reconstruct(x)),
          test.imageSize());
    }
    write(root);
    System.out.printf(
        Locale.ROOT, "wrote the loss on %d test images and their reconstructions to %s%n", n, json);
    return 0;
  }

  /** A batch's loss terms as training defines them, and the noise they drew (null for none). */
  private record Drawn(Losses losses, Tensor noise) {}

  private static Drawn losses(Autoencoder model, JobConfig job, Tensor x) {
    if (model instanceof VariationalAutoencoder vae) {
      VariationalAutoencoder.Pass pass = vae.forward(x);
      return new Drawn(vae.losses(pass, x, job.beta(), job.freeBits()), pass.eps());
    }
    if (model instanceof MlpAutoencoder ae && job.noise() != null) {
      Tensor noise = ae.unitNoise(x);
      return new Drawn(model.losses(ae.corrupt(x, noise), x, job.beta()), noise);
    }
    return new Drawn(model.losses(x, x, job.beta()), null);
  }

  private void write(ObjectNode root) {
    try {
      Path parent = json.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Files.writeString(json, root.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
    }
  }

  private static void rows(ArrayNode into, float[] values, int width) {
    for (int r = 0; r < values.length / width; r++) {
      ArrayNode row = into.addArray();
      for (int c = 0; c < width; c++) {
        row.add(values[r * width + c]);
      }
    }
  }
}
