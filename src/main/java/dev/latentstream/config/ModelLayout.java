package dev.latentstream.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The layers of the model a job describes, as sizes only: the one definition that {@code model/}
 * builds its libtorch modules from and {@link JobBudget} counts parameters and activations from, so
 * the two cannot drift apart. Plain Java, no libtorch: a spec can be sized before any tensor
 * exists.
 */
public sealed interface ModelLayout {

  /** A fully connected layer with a bias. */
  record Linear(int in, int out) {
    public long parameters() {
      return (long) in * out + out;
    }
  }

  /**
   * A 3×3 convolution with a bias and padding 1 (or the transposed one, which has as many weights),
   * and the {@code height} × {@code width} of the maps it puts out.
   */
  record Conv3x3(int in, int out, int stride, int height, int width) {
    public long parameters() {
      return (long) in * out * 9 + out;
    }

    public long positions() {
      return (long) height * width;
    }
  }

  /** Every weight and bias in the model. */
  long parameters();

  /**
   * {@code ae}, {@code dae} and {@code aae}: an encoder MLP from the pixels to the code, a decoder
   * MLP back, and for the {@code aae} a discriminator MLP from a code to one logit (empty for the
   * others). Each list holds the widths from input to output.
   */
  record Mlp(List<Integer> encoder, List<Integer> decoder, List<Integer> discriminator)
      implements ModelLayout {
    public Mlp {
      encoder = List.copyOf(encoder);
      decoder = List.copyOf(decoder);
      discriminator = List.copyOf(discriminator);
    }

    @Override
    public long parameters() {
      return linears(encoder) + linears(decoder) + linears(discriminator);
    }
  }

  /**
   * {@code vae}: an encoder MLP from the pixels to the last hidden width, the mean and log-variance
   * heads from there to the code, and a decoder MLP back to the pixels.
   */
  record Variational(List<Integer> encoder, Linear mu, Linear logVar, List<Integer> decoder)
      implements ModelLayout {
    public Variational {
      encoder = List.copyOf(encoder);
      decoder = List.copyOf(decoder);
    }

    @Override
    public long parameters() {
      return linears(encoder) + mu.parameters() + logVar.parameters() + linears(decoder);
    }
  }

  /**
   * {@code conv-vae} ({@code model.ConvVae}): 3×3 convolutions (the second with stride 2, halving
   * the sides), a dense layer, the mean and log-variance heads; back up through a dense layer to
   * the last convolution's maps, a transposed convolution to full size and a 3×3 convolution to one
   * channel.
   */
  record ConvVariational(
      List<Conv3x3> convs,
      Linear dense,
      Linear mu,
      Linear logVar,
      Linear decoderDense,
      Conv3x3 upsample,
      Conv3x3 output)
      implements ModelLayout {
    public ConvVariational {
      convs = List.copyOf(convs);
    }

    @Override
    public long parameters() {
      long p = 0;
      for (Conv3x3 c : convs) {
        p += c.parameters();
      }
      return p
          + dense.parameters()
          + mu.parameters()
          + logVar.parameters()
          + decoderDense.parameters()
          + upsample.parameters()
          + output.parameters();
    }
  }

  /** The layout of {@code job}'s model for images of {@code height} × {@code width} pixels. */
  static ModelLayout of(JobConfig job, int height, int width) {
    return switch (job.model()) {
      case ae, dae, aae -> mlp(job, height, width);
      case vae -> variational(job, height, width);
      case conv_vae -> convVariational(job, height, width);
    };
  }

  /** {@code ae}, {@code dae} and {@code aae}. */
  static Mlp mlp(JobConfig job, int height, int width) {
    int pixels = height * width;
    return new Mlp(
        widths(pixels, job.hidden(), job.latent()),
        decoder(job, pixels),
        job.discriminator() == null
            ? List.of()
            : widths(job.latent(), job.discriminator().hidden(), 1));
  }

  /** {@code vae}. */
  static Variational variational(JobConfig job, int height, int width) {
    int pixels = height * width;
    List<Integer> hidden = job.hidden();
    int last = hidden.getLast();
    return new Variational(
        widths(pixels, hidden.subList(0, hidden.size() - 1), last),
        new Linear(last, job.latent()),
        new Linear(last, job.latent()),
        decoder(job, pixels));
  }

  /** {@code conv-vae}. */
  static ConvVariational convVariational(JobConfig job, int height, int width) {
    List<Integer> channels = job.conv().channels();
    List<Conv3x3> convs = new ArrayList<>();
    int in = 1;
    for (int i = 0; i < channels.size(); i++) {
      int stride = i == 1 ? 2 : 1;
      int h = i >= 1 ? height / 2 : height;
      int w = i >= 1 ? width / 2 : width;
      convs.add(new Conv3x3(in, channels.get(i), stride, h, w));
      in = channels.get(i);
    }
    int flat = in * (height / 2) * (width / 2);
    int dense = job.conv().dense();
    int first = channels.getFirst();
    return new ConvVariational(
        convs,
        new Linear(flat, dense),
        new Linear(dense, job.latent()),
        new Linear(dense, job.latent()),
        new Linear(job.latent(), flat),
        new Conv3x3(in, first, 2, height, width),
        new Conv3x3(first, 1, 1, height, width));
  }

  private static List<Integer> decoder(JobConfig job, int pixels) {
    return widths(job.latent(), job.hidden().reversed(), pixels);
  }

  /** {@code first}, then {@code middle}, then {@code last}. */
  private static List<Integer> widths(int first, List<Integer> middle, int last) {
    List<Integer> out = new ArrayList<>(middle.size() + 2);
    out.add(first);
    out.addAll(middle);
    out.add(last);
    return out;
  }

  /** The weights and biases of the linear layers between consecutive {@code widths}. */
  private static long linears(List<Integer> widths) {
    long p = 0;
    for (int i = 1; i < widths.size(); i++) {
      p += new Linear(widths.get(i - 1), widths.get(i)).parameters();
    }
    return p;
  }
}
