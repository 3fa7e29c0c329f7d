package dev.latentstream.config;

import dev.latentstream.config.JobConfig.ModelType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Estimates the memory a job will need from its spec alone, before any tensor exists, so that a
 * spec too large for the machine is refused instead of swapping it to death. Pure arithmetic:
 * nothing here touches libtorch.
 *
 * <p>The estimate counts float32 values: parameters, their gradients, the optimiser's state (Adam
 * keeps two moments per parameter, RMSprop one square average) and the activations autograd keeps
 * for the backward pass, times the batch. Each layer is counted twice for its activations (the
 * layer's output and its non-linearity's output, both saved), the image three times (input, logits,
 * target). It is a lower bound on what libtorch allocates (allocator slack, the data set and
 * evaluation batches come on top), which is the safe side for refusing: a refused job would
 * certainly not have fitted. Images are the 28×28 grey images every supported data set has (see the
 * README's non-goals).
 */
public final class JobBudget {

  static final int SIDE = 28;
  static final long PIXELS = (long) SIDE * SIDE;
  static final long BYTES_PER_VALUE = Float.BYTES;

  private JobBudget() {}

  /** The estimate for one job, in bytes, split into the parts the refusal message names. */
  public record Estimate(
      long parameters, long parameterBytes, long optimizerBytes, long activationBytes) {
    public long totalBytes() {
      return saturatingAdd(saturatingAdd(parameterBytes, optimizerBytes), activationBytes);
    }
  }

  public static Estimate estimate(JobConfig job) {
    Layers layers = layers(job);
    double params = layers.parameters;
    // parameters and their gradients; the optimiser's state per parameter
    double weights = params * 2;
    double optimizerState =
        params
            * switch (job.optimizer()) {
              case adam -> 2;
              case rmsprop -> 1;
            };
    double activations = layers.activationsPerImage * job.batchSize();
    return new Estimate(
        toLong(params),
        toLong(weights * BYTES_PER_VALUE),
        toLong(optimizerState * BYTES_PER_VALUE),
        toLong(activations * BYTES_PER_VALUE));
  }

  /**
   * Refuses {@code job} when its estimate is over {@code maxJobBytes}, naming both figures.
   *
   * @throws ConfigException when the job would not fit
   */
  public static void check(JobConfig job, long maxJobBytes) {
    Estimate e = estimate(job);
    if (e.totalBytes() > maxJobBytes) {
      throw new ConfigException(
          String.format(
              Locale.ROOT,
              "the job needs an estimated %d bytes (%s: %s for %d parameters and their gradients, %s optimiser state, "
                  + "%s activations for a batch of %d) but a job may use at most %d bytes (%s, server key \"maxJobBytes\"); "
                  + "use fewer or narrower layers or a smaller \"batchSize\"",
              e.totalBytes(),
              human(e.totalBytes()),
              human(e.parameterBytes()),
              e.parameters(),
              human(e.optimizerBytes()),
              human(e.activationBytes()),
              job.batchSize(),
              maxJobBytes,
              human(maxJobBytes)));
    }
  }

  /**
   * Parameter count and per-image activation count of the model the spec describes (mirrors {@code
   * model/}).
   */
  private record Layers(double parameters, double activationsPerImage) {}

  private static Layers layers(JobConfig job) {
    Counter c = new Counter();
    c.image(job.model() == ModelType.dae ? 2 : 1); // the dae also keeps its corrupted copy
    switch (job.model()) {
      case ae, dae, aae -> {
        c.mlp(concat(PIXELS, job.hidden(), job.latent()));
        c.mlp(concat(job.latent(), job.hidden().reversed(), PIXELS));
        if (job.model() == ModelType.aae) {
          // the discriminator judges prior draws and codes: two forward passes per step
          List<Long> disc = concat(job.latent(), job.discriminator().hidden(), 1);
          c.parameters += mlpParameters(disc);
          c.activations += 2 * 2 * sum(disc.subList(1, disc.size()));
        }
      }
      case vae -> {
        List<Integer> hidden = job.hidden();
        long last = hidden.getLast();
        c.mlp(concat(PIXELS, hidden.subList(0, hidden.size() - 1), last));
        c.linear(last, job.latent()); // mu
        c.linear(last, job.latent()); // log-variance
        c.activations += 2.0 * job.latent(); // eps and z of the reparameterisation
        c.mlp(concat(job.latent(), hidden.reversed(), PIXELS));
      }
      case conv_vae -> convVae(job, c);
    }
    c.image(2); // logits and the target the loss compares them with
    return new Layers(c.parameters, c.activations);
  }

  /**
   * The layout of {@code model.ConvVae}: 3×3 convs (the second with stride 2), dense,
   * mu/log-variance, back up.
   */
  private static void convVae(JobConfig job, Counter c) {
    List<Integer> channels = job.conv().channels();
    long in = 1;
    long side = SIDE;
    for (int i = 0; i < channels.size(); i++) {
      if (i == 1) {
        side /= 2;
      }
      c.conv(in, channels.get(i), side * side);
      in = channels.get(i);
    }
    long flat = in * side * side;
    long dense = job.conv().dense();
    c.linear(flat, dense);
    c.linear(dense, job.latent());
    c.linear(dense, job.latent());
    c.activations += 2.0 * job.latent();
    c.linear(job.latent(), flat);
    c.conv(
        in,
        channels.getFirst(),
        PIXELS); // the transposed conv back to full size: same weight count
    c.conv(channels.getFirst(), 1, PIXELS);
  }

  private static final class Counter {
    double parameters;
    double activations;

    void image(int copies) {
      activations += (double) copies * PIXELS;
    }

    void linear(long in, long out) {
      parameters += (double) in * out + out;
      activations += 2.0 * out;
    }

    void conv(long in, long out, long positions) {
      parameters += (double) in * out * 9 + out;
      activations += 2.0 * out * positions;
    }

    void mlp(List<Long> widths) {
      for (int i = 1; i < widths.size(); i++) {
        linear(widths.get(i - 1), widths.get(i));
      }
    }
  }

  private static double mlpParameters(List<Long> widths) {
    double p = 0;
    for (int i = 1; i < widths.size(); i++) {
      p += (double) widths.get(i - 1) * widths.get(i) + widths.get(i);
    }
    return p;
  }

  private static double sum(List<Long> xs) {
    double s = 0;
    for (long x : xs) {
      s += x;
    }
    return s;
  }

  private static List<Long> concat(long first, List<Integer> middle, long last) {
    List<Long> out = new ArrayList<>();
    out.add(first);
    middle.forEach(m -> out.add((long) m));
    out.add(last);
    return out;
  }

  /**
   * Doubles keep a spec of a thousand 65536-wide layers from wrapping; past {@code Long.MAX_VALUE}
   * it saturates.
   */
  private static long toLong(double v) {
    return v >= 0x1p63 ? Long.MAX_VALUE : (long) Math.ceil(v);
  }

  private static long saturatingAdd(long a, long b) {
    long s = a + b;
    return s < 0 ? Long.MAX_VALUE : s;
  }

  /** 1.5 GiB, for the message; the exact byte count is given beside it. */
  static String human(long bytes) {
    String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
