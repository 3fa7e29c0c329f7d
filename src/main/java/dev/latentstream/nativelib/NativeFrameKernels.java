package dev.latentstream.nativelib;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Every downcall into liblsframes, as {@code static final} method handles. The kernels are linked
 * "critical": they are short and never call back, so they may read heap segments (Java arrays) in
 * place and tensor memory without any copy. Loaded through {@link NativeLibrary}; initialising this
 * class fails if the library is missing, which {@link Kernels} turns into the Java fallback.
 */
final class NativeFrameKernels implements FrameKernels, TrainingKernels {

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIB = NativeLibrary.lookup();
  private static final Linker.Option CRITICAL = Linker.Option.critical(true);

  private static final MethodHandle VERSION = handle("lsf_version", FunctionDescriptor.of(ADDRESS));
  private static final MethodHandle STRERROR =
      handle("lsf_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  private static final MethodHandle GRID_SIZE =
      handle(
          "lsf_grid_size",
          FunctionDescriptor.of(
              JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle TILE_GREY =
      critical(
          "lsf_tile_grey",
          FunctionDescriptor.of(
              JAVA_INT,
              ADDRESS,
              JAVA_LONG,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              ADDRESS,
              JAVA_LONG));
  private static final MethodHandle TILE_PAIRS =
      critical(
          "lsf_tile_pairs",
          FunctionDescriptor.of(
              JAVA_INT,
              ADDRESS,
              ADDRESS,
              JAVA_LONG,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_INT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              ADDRESS,
              JAVA_LONG));
  private static final MethodHandle SCATTER =
      critical(
          "lsf_scatter_rgba",
          FunctionDescriptor.of(
              JAVA_INT,
              ADDRESS,
              ADDRESS,
              JAVA_INT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_INT,
              ADDRESS,
              JAVA_INT,
              JAVA_INT,
              JAVA_LONG));
  private static final MethodHandle PNG_BOUND =
      handle("lsf_png_bound", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle PNG_ENCODE =
      critical(
          "lsf_png_encode",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
              JAVA_LONG, ADDRESS));
  private static final MethodHandle PNG_ENCODE_INDEXED =
      critical(
          "lsf_png_encode_indexed",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
              ADDRESS, JAVA_LONG, ADDRESS));

  private static final MethodHandle ADAM =
      critical(
          "lsf_adam_step",
          FunctionDescriptor.of(
              JAVA_INT,
              ADDRESS,
              ADDRESS,
              ADDRESS,
              ADDRESS,
              JAVA_LONG,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_FLOAT,
              JAVA_LONG));

  private static final MethodHandle BCE =
      critical(
          "lsf_bce_logits",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_FLOAT, ADDRESS, ADDRESS));

  private static final MethodHandle BIAS_ACT =
      critical(
          "lsf_bias_act",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
  private static final MethodHandle RELU_GRAD_COLSUM =
      critical(
          "lsf_relu_grad_colsum",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
  private static final MethodHandle VAE_SAMPLE =
      critical(
          "lsf_vae_sample",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
  private static final MethodHandle VAE_LATENT_BACKWARD =
      critical(
          "lsf_vae_latent_backward",
          FunctionDescriptor.of(
              JAVA_INT,
              ADDRESS,
              ADDRESS,
              ADDRESS,
              ADDRESS,
              ADDRESS,
              JAVA_LONG,
              JAVA_FLOAT,
              ADDRESS,
              ADDRESS,
              ADDRESS));

  private static final MethodHandle GATHER_UNIT =
      critical(
          "lsf_gather_unit",
          FunctionDescriptor.of(
              JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));

  private static final String VERSION_STRING = version();

  private static MethodHandle handle(String name, FunctionDescriptor d) {
    return LINKER.downcallHandle(LIB.findOrThrow(name), d);
  }

  private static MethodHandle critical(String name, FunctionDescriptor d) {
    return LINKER.downcallHandle(LIB.findOrThrow(name), d, CRITICAL);
  }

  private static String version() {
    try {
      return ((MemorySegment) VERSION.invokeExact()).reinterpret(64).getString(0);
    } catch (Throwable t) {
      throw new IllegalStateException("lsf_version failed", t);
    }
  }

  static String strerror(int status) {
    try {
      return ((MemorySegment) STRERROR.invokeExact(status)).reinterpret(128).getString(0);
    } catch (Throwable t) {
      return "status " + status;
    }
  }

  private static void check(int status, String call, Object... args) {
    if (status != 0) {
      throw new NativeFrameException(call, status, strerror(status), args);
    }
  }

  /** A downcall returning an lsframes status. */
  private interface Downcall {
    int invoke() throws Throwable;
  }

  /**
   * Runs a downcall; a non-zero status becomes a {@link NativeFrameException} carrying the
   * arguments.
   */
  private static void call(String name, Downcall downcall, Object... args) {
    int status;
    try {
      status = downcall.invoke();
    } catch (Throwable t) {
      throw new IllegalStateException(name + " could not be called", t);
    }
    check(status, name, args);
  }

  @Override
  public Kind kind() {
    return Kind.NATIVE;
  }

  @Override
  public String implementation() {
    return "native lsframes " + VERSION_STRING;
  }

  @Override
  public int[] gridSize(int n, int h, int w, int columns, int gap) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment width = arena.allocate(JAVA_INT);
      MemorySegment height = arena.allocate(JAVA_INT);
      int status = (int) GRID_SIZE.invokeExact(n, h, w, columns, gap, width, height);
      check(status, "lsf_grid_size", n, h, w, columns, gap);
      return new int[] {width.get(JAVA_INT, 0), height.get(JAVA_INT, 0)};
    } catch (NativeFrameException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override
  public void tileGrey(
      MemorySegment src,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst) {
    call(
        "lsf_tile_grey",
        () ->
            (int)
                TILE_GREY.invokeExact(
                    src, src.byteSize() / 4, n, h, w, columns, gap, lo, hi, dst, dst.byteSize()),
        n,
        h,
        w,
        columns,
        gap,
        lo,
        hi,
        src.byteSize(),
        dst.byteSize());
  }

  @Override
  public void tilePairs(
      MemorySegment originals,
      MemorySegment reconstructions,
      int n,
      int h,
      int w,
      int columns,
      int gap,
      float lo,
      float hi,
      MemorySegment dst) {
    long count = Math.min(originals.byteSize(), reconstructions.byteSize()) / 4;
    call(
        "lsf_tile_pairs",
        () ->
            (int)
                TILE_PAIRS.invokeExact(
                    originals,
                    reconstructions,
                    count,
                    n,
                    h,
                    w,
                    columns,
                    gap,
                    lo,
                    hi,
                    dst,
                    dst.byteSize()),
        n,
        h,
        w,
        columns,
        gap,
        lo,
        hi,
        count,
        dst.byteSize());
  }

  @Override
  public void scatterRgba(
      MemorySegment xy,
      MemorySegment labels,
      int n,
      float xMin,
      float xMax,
      float yMin,
      float yMax,
      int size,
      MemorySegment rgba,
      int width,
      int height) {
    KernelArguments.points("lsf_scatter_rgba", xy, labels, n);
    call(
        "lsf_scatter_rgba",
        () ->
            (int)
                SCATTER.invokeExact(
                    xy,
                    labels,
                    n,
                    xMin,
                    xMax,
                    yMin,
                    yMax,
                    size,
                    rgba,
                    width,
                    height,
                    rgba.byteSize()),
        n,
        xMin,
        xMax,
        yMin,
        yMax,
        size,
        width,
        height,
        rgba.byteSize());
  }

  @Override
  public byte[] encodePng(MemorySegment pixels, int width, int height, int channels, int level) {
    return png(
        "lsf_png_encode",
        width,
        height,
        channels,
        0,
        (out, bound, size) ->
            (int)
                PNG_ENCODE.invokeExact(
                    pixels, pixels.byteSize(), width, height, channels, level, out, bound, size),
        level,
        pixels.byteSize());
  }

  @Override
  public byte[] encodeIndexedPng(
      MemorySegment indices, int width, int height, byte[] paletteRgb, int entries, int level) {
    KernelArguments.palette("lsf_png_encode_indexed", paletteRgb, entries);
    MemorySegment palette = MemorySegment.ofArray(paletteRgb);
    // The palette chunk (at most 256 × 3 bytes and its header) comes on top of the grey bound.
    return png(
        "lsf_png_encode_indexed",
        width,
        height,
        1,
        780,
        (out, bound, size) ->
            (int)
                PNG_ENCODE_INDEXED.invokeExact(
                    indices,
                    indices.byteSize(),
                    width,
                    height,
                    palette,
                    entries,
                    level,
                    out,
                    bound,
                    size),
        entries,
        level,
        indices.byteSize());
  }

  /**
   * One PNG encoder call into a buffer of lsf_png_bound + {@code extra} bytes owned by this call's
   * arena.
   */
  private byte[] png(
      String name, int width, int height, int channels, long extra, PngCall call, Object... args) {
    try (Arena arena = Arena.ofConfined()) {
      long bound = (long) PNG_BOUND.invokeExact(width, height, channels);
      check(bound < 0 ? (int) bound : 0, "lsf_png_bound", width, height, channels);
      bound += extra;
      MemorySegment out = arena.allocate(bound);
      MemorySegment size = arena.allocate(JAVA_LONG);
      int status = call.invoke(out, bound, size);
      Object[] all = new Object[args.length + 3];
      all[0] = width;
      all[1] = height;
      all[2] = channels;
      System.arraycopy(args, 0, all, 3, args.length);
      check(status, name, all);
      return out.asSlice(0, size.get(JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE);
    } catch (NativeFrameException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @FunctionalInterface
  private interface PngCall {
    int invoke(MemorySegment out, long bound, MemorySegment size) throws Throwable;
  }

  @Override
  public double bceWithLogits(
      MemorySegment logits, MemorySegment target, long n, float gradScale, MemorySegment grad) {
    KernelArguments.floats("lsf_bce_logits", n, logits, target, grad);
    double[] sum = new double[1];
    MemorySegment out = MemorySegment.ofArray(sum);
    call(
        "lsf_bce_logits",
        () -> (int) BCE.invokeExact(logits, target, n, gradScale, grad, out),
        n,
        gradScale);
    return sum[0];
  }

  @Override
  public void adamStep(
      MemorySegment param,
      MemorySegment grad,
      MemorySegment expAvg,
      MemorySegment expAvgSq,
      long n,
      float lr,
      float beta1,
      float beta2,
      float eps,
      long step) {
    KernelArguments.floats("lsf_adam_step", n, param, grad, expAvg, expAvgSq);
    call(
        "lsf_adam_step",
        () -> (int) ADAM.invokeExact(param, grad, expAvg, expAvgSq, n, lr, beta1, beta2, eps, step),
        n,
        lr,
        beta1,
        beta2,
        eps,
        step);
  }

  @Override
  public void biasAct(MemorySegment y, MemorySegment bias, long rows, long cols, boolean relu) {
    KernelArguments.floats("lsf_bias_act", rows * cols, y);
    KernelArguments.floats("lsf_bias_act", cols, bias);
    call(
        "lsf_bias_act",
        () -> (int) BIAS_ACT.invokeExact(y, bias, rows, cols, relu ? 1 : 0),
        rows,
        cols);
  }

  @Override
  public void reluGradColsum(
      MemorySegment grad, MemorySegment act, long rows, long cols, MemorySegment biasGrad) {
    MemorySegment mask = act == null ? MemorySegment.NULL : act;
    KernelArguments.reluGradColsum("lsf_relu_grad_colsum", grad, act, rows, cols, biasGrad);
    call(
        "lsf_relu_grad_colsum",
        () -> (int) RELU_GRAD_COLSUM.invokeExact(grad, mask, rows, cols, biasGrad),
        rows,
        cols);
  }

  @Override
  public void vaeSample(
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      long n,
      MemorySegment z,
      MemorySegment std) {
    KernelArguments.floats("lsf_vae_sample", n, mu, logVar, eps, z, std);
    call("lsf_vae_sample", () -> (int) VAE_SAMPLE.invokeExact(mu, logVar, eps, n, z, std), n);
  }

  @Override
  public double vaeLatentBackward(
      MemorySegment gradZ,
      MemorySegment mu,
      MemorySegment logVar,
      MemorySegment eps,
      MemorySegment std,
      long n,
      float klScale,
      MemorySegment gradMu,
      MemorySegment gradLogVar) {
    KernelArguments.floats(
        "lsf_vae_latent_backward", n, gradZ, mu, logVar, eps, std, gradMu, gradLogVar);
    double[] sum = new double[1];
    MemorySegment out = MemorySegment.ofArray(sum);
    call(
        "lsf_vae_latent_backward",
        () ->
            (int)
                VAE_LATENT_BACKWARD.invokeExact(
                    gradZ, mu, logVar, eps, std, n, klScale, gradMu, gradLogVar, out),
        n,
        klScale);
    return sum[0];
  }

  @Override
  public void gatherUnit(
      MemorySegment pixels,
      long images,
      long imageSize,
      MemorySegment order,
      long count,
      MemorySegment out) {
    KernelArguments.gather("lsf_gather_unit", pixels, images, imageSize, order, count, out);
    call(
        "lsf_gather_unit",
        () -> (int) GATHER_UNIT.invokeExact(pixels, images, imageSize, order, count, out),
        images,
        imageSize,
        count);
  }
}
