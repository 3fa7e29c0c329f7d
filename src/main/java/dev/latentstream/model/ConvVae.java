package dev.latentstream.model;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.conv2d;
import static org.bytedeco.pytorch.global.torch.relu;
import static org.bytedeco.pytorch.global.torch.zeros;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.ModelLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.ConvTranspose2dImpl;
import org.bytedeco.pytorch.ConvTranspose2dOptions;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;

/**
 * The convolutional VAE of the Keras tutorial ("Deep Learning with Python", §8.4): 3×3 convolutions
 * {@code conv.channels} (the second with stride 2) → dense {@code conv.dense} → a (by default 2-D)
 * latent; the decoder goes dense → reshape to the last channel count at half resolution →
 * transposed convolution with stride 2 → a 3×3 convolution to one channel with sigmoid output.
 * Trained with per-pixel mean BCE plus β · per-dimension mean KL and RMSprop in the preset.
 */
public final class ConvVae extends VariationalAutoencoder {

  private final ModelLayout.ConvVariational layout;
  private final List<Conv2dImpl> convs = new ArrayList<>();
  private final LinearImpl dense;
  private final LinearImpl mu;
  private final LinearImpl logVar;
  private final LinearImpl decoderDense;
  private final ConvTranspose2dImpl upsample;
  private final Conv2dImpl output;

  public ConvVae(JobConfig job, int height, int width) {
    super("conv-vae", job, height, width);
    if (height % 2 != 0 || width % 2 != 0) {
      throw new IllegalArgumentException(
          "conv-vae needs even image sides, got " + height + "x" + width);
    }
    layout = ModelLayout.convVariational(job, height, width);
    for (int i = 0; i < layout.convs().size(); i++) {
      convs.add(register_module("conv" + i, new Conv2dImpl(conv3x3(layout.convs().get(i)))));
    }
    dense = register_module("dense", linear(layout.dense()));
    mu = register_module("mu", linear(layout.mu()));
    logVar = register_module("logvar", linear(layout.logVar()));
    decoderDense = register_module("decoder_dense", linear(layout.decoderDense()));
    ModelLayout.Conv3x3 up = layout.upsample();
    ConvTranspose2dOptions t =
        new ConvTranspose2dOptions(up.in(), up.out(), new LongPointer(3L, 3L));
    t.stride().put(0, (long) up.stride()).put(1, (long) up.stride());
    t.padding().put(0, 1L).put(1, 1L);
    t.output_padding().put(0, 1L).put(1, 1L);
    upsample = register_module("upsample", new ConvTranspose2dImpl(t));
    output = register_module("output", new Conv2dImpl(conv3x3(layout.output())));
  }

  private static Conv2dOptions conv3x3(ModelLayout.Conv3x3 c) {
    Conv2dOptions o = new Conv2dOptions(c.in(), c.out(), new LongPointer(3L, 3L));
    o.stride().put(0, (long) c.stride()).put(1, (long) c.stride());
    o.padding().put(new LongPointer(1L, 1L));
    return o;
  }

  /**
   * The most bytes one no-grad pass may hold in a feature map: a pass over more images goes through
   * the layers {@link #imagesPerPiece} at a time (see {@link #inPieces}).
   */
  static final long PIECE_BYTES = 8L << 20;

  /** Images per piece of a no-grad pass: the widest feature map of a piece within PIECE_BYTES. */
  long imagesPerPiece() {
    long widest =
        Math.max(widestDecoderFloats(), (long) layout.convs().getFirst().out() * height * width);
    return Math.max(1, PIECE_BYTES / (widest * Float.BYTES));
  }

  /**
   * {@code pass} over the rows of {@code x}: at once while autograd records or when they are few,
   * else {@link #imagesPerPiece} rows at a time, the results joined along the rows. The same values
   * either way: every layer treats each image on its own.
   *
   * <p>Why: a test pass of 500 images holds feature maps of 25 to 50 MB (32 maps of the image per
   * image). Blocks that large are mapped one by one and unmapped when freed ({@link
   * Libtorch#MAPPED_TENSOR_BYTES}), so every map of every batch pays a page fault per 4 KiB, and
   * the pass runs out of cache. On an AMD EPYC VM the preset's test pass over 2,000 images took
   * 13.8 s of CPU (oneDNN's reorders between its blocked layout and libtorch's plain one 4.7 s of
   * it), against the PyTorch peer's 6.4 s; in pieces, 1.0 s (docs/benchmarks.md). Pieces of a few
   * MB come from the arenas and are reused piece after piece, and the pass's peak holds one piece's
   * maps rather than a whole batch's.
   */
  private Tensor[] inPieces(Tensor x, Function<Tensor, Tensor[]> pass) {
    long n = x.size(0);
    long piece = imagesPerPiece();
    if (n <= piece || GradMode.is_enabled()) {
      return pass.apply(x);
    }
    List<TensorVector> parts = new ArrayList<>();
    for (long from = 0; from < n; from += piece) {
      Tensor rows = x.narrow(0, from, Math.min(piece, n - from));
      Tensor[] out = pass.apply(rows);
      rows.close();
      for (int i = 0; i < out.length; i++) {
        if (parts.size() <= i) {
          parts.add(new TensorVector());
        }
        parts.get(i).push_back(out[i]);
        out[i].close();
      }
    }
    Tensor[] joined = new Tensor[parts.size()];
    for (int i = 0; i < joined.length; i++) {
      joined[i] = cat(parts.get(i));
      parts.get(i).close();
    }
    return joined;
  }

  @Override
  public Encoded encode(Tensor x) {
    Tensor[] q =
        inPieces(
            x.view(-1, (long) height * width),
            rows -> {
              Encoded e = encodeAtOnce(rows);
              return new Tensor[] {e.mean(), e.logVar()};
            });
    return new Encoded(q[0], q[1]);
  }

  private Encoded encodeAtOnce(Tensor x) {
    Tensor h = x.view(-1, 1, height, width);
    for (Conv2dImpl conv : convs) {
      h = activate(convolve(conv, h), h);
    }
    Tensor flat = h.flatten(1, -1);
    h.close();
    h = activate(dense.forward(flat), flat);
    Encoded q = new Encoded(mu.forward(h), logVar.forward(h));
    h.close();
    return q;
  }

  /**
   * relu({@code pre}), letting go of {@code pre} and of the layer's input {@code in} (this class's
   * own handles, never the caller's tensor) once it exists.
   *
   * <p>Why: every tensor a JavaCPP call returns stays alive until the caller's {@code PointerScope}
   * closes, where Python frees a layer's input and pre-activation as soon as the next exists. In a
   * test pass of 500 images that kept all twelve feature maps of the model alive at once, about 400
   * MB, and the process's peak memory was 3.2× the PyTorch peer's (docs/benchmarks.md). Autograd
   * keeps what backward needs by references of its own, so training is unchanged.
   */
  private static Tensor activate(Tensor pre, Tensor in) {
    Tensor out = relu(pre);
    pre.close();
    in.close();
    return out;
  }

  /**
   * Output channels are padded to a multiple of this for a CPU convolution whose input gradient is
   * needed: see {@link #convolve}.
   */
  static final long CHANNEL_BLOCK = 16;

  /**
   * {@code c} (3×3, padding 1, its own stride) on {@code h}. On some CPUs the oneDNN in libtorch
   * 2.10 computes a wrong gradient with respect to a convolution's input (garbage, at times NaN)
   * when the layer's output channels are not a multiple of 16: measured on AVX2 and AVX-512
   * machines in November 2026 and on an AMD EPYC (AVX-512) in December, while an Intel Xeon with
   * AVX-512 gets it right ({@code ConvVaeGradientTest}). One such layer (the preset's 1-channel
   * output) makes every earlier gradient wrong and the run diverge. So while autograd records
   * through such a layer on the CPU, it runs with zero filters added up to the next multiple of
   * {@link #CHANNEL_BLOCK} and the added channels dropped: the same values and gradients, for the
   * added filters' arithmetic. Without autograd (test pass, frames, IWAE) and on CUDA (cuDNN, not
   * oneDNN) it runs as it is. Padding everywhere on the CPU rather than where a probe finds the bug
   * keeps a run's arithmetic the same on every CPU, and a probe that passed by chance would let a
   * run diverge.
   */
  static Tensor convolve(Conv2dImpl c, Tensor h) {
    Tensor w = c.weight();
    long out = w.size(0);
    if (!h.requires_grad() || out % CHANNEL_BLOCK == 0 || !h.is_cpu()) {
      return c.forward(h);
    }
    long stride = c.options().stride().get(0);
    long extra = CHANNEL_BLOCK - out % CHANNEL_BLOCK;
    Tensor noFilters =
        zeros(new long[] {extra, w.size(1), w.size(2), w.size(3)}, new TensorOptions(w.device()));
    Tensor noBias = zeros(new long[] {extra}, new TensorOptions(w.device()));
    Tensor weight = cat(new TensorVector(w, noFilters));
    Tensor bias = cat(new TensorVector(c.bias(), noBias));
    Tensor padded =
        conv2d(
            h,
            weight,
            new TensorOptional(bias),
            new long[] {stride, stride},
            new long[] {1, 1},
            new long[] {1, 1},
            1);
    Tensor maps = padded.narrow(1, 0, out);
    // Autograd holds what backward needs by references of its own (see activate).
    for (Tensor t : List.of(noFilters, noBias, weight, bias, padded)) {
      t.close();
    }
    return maps;
  }

  /** The transposed convolution's feature maps, {@code channels[0]} of them at the image's size. */
  @Override
  public long widestDecoderFloats() {
    return (long) upsample.weight().size(1) * height * width;
  }

  @Override
  public List<String> decoderModules() {
    return List.of("decoder_dense", "upsample", "output");
  }

  @Override
  public Tensor decodeLogits(Tensor z) {
    return inPieces(z, rows -> new Tensor[] {decodeAtOnce(rows)})[0];
  }

  private Tensor decodeAtOnce(Tensor z) {
    ModelLayout.Conv3x3 deepest = layout.convs().getLast();
    Tensor pre = decoderDense.forward(z);
    Tensor flat = relu(pre);
    pre.close();
    Tensor h = flat.view(-1, deepest.out(), deepest.height(), deepest.width());
    flat.close();
    h = activate(upsample.forward(h), h);
    Tensor maps = convolve(output, h);
    h.close();
    Tensor logits = maps.view(-1, (long) height * width);
    maps.close();
    return logits;
  }
}
