package dev.latentstream.config;

import dev.latentstream.config.JobConfig.ModelType;
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
   * Parameter count and per-image activation count of the model the spec describes, read off its
   * {@link ModelLayout}.
   */
  private record Layers(double parameters, double activationsPerImage) {}

  private static Layers layers(JobConfig job) {
    ModelLayout layout = ModelLayout.of(job, SIDE, SIDE);
    // the image, the dae's corrupted copy, and the logits and target the loss compares
    double activations = (job.model() == ModelType.dae ? 2 : 1) * PIXELS + 2.0 * PIXELS;
    switch (layout) {
      case ModelLayout.Mlp m ->
          // the discriminator judges prior draws and codes: two forward passes per step
          activations += saved(m.encoder()) + saved(m.decoder()) + 2 * saved(m.discriminator());
      case ModelLayout.Variational v ->
          activations +=
              saved(v.encoder())
                  + saved(v.mu())
                  + saved(v.logVar())
                  + 2.0 * v.mu().out() // eps and z of the reparameterisation
                  + saved(v.decoder());
      case ModelLayout.ConvVariational c -> {
        for (ModelLayout.Conv3x3 conv : c.convs()) {
          activations += saved(conv);
        }
        activations +=
            saved(c.dense())
                + saved(c.mu())
                + saved(c.logVar())
                + 2.0 * c.mu().out()
                + saved(c.decoderDense())
                + saved(c.upsample())
                + saved(c.output());
      }
    }
    return new Layers(layout.parameters(), activations);
  }

  /** Each layer's output and its non-linearity's output, both kept for the backward pass. */
  private static double saved(ModelLayout.Linear l) {
    return 2.0 * l.out();
  }

  private static double saved(ModelLayout.Conv3x3 c) {
    return 2.0 * c.out() * c.positions();
  }

  private static double saved(List<Integer> widths) {
    double s = 0;
    for (int i = 1; i < widths.size(); i++) {
      s += 2.0 * widths.get(i);
    }
    return s;
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
