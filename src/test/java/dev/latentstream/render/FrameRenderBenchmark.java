package dev.latentstream.render;

import dev.latentstream.nativelib.JavaFrameKernels;
import dev.latentstream.nativelib.Kernels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Frame cost per frame: a 128-image 28×28 reconstruction grid and a 10k-point scatter, rendered by
 * the native kernels (reading native "tensor" memory in place) and by the Java paths (the Java
 * kernels, and the classic copy-to-BufferedImage + ImageIO route).
 *
 * <p>Run: {@code ./latentstream tool FrameRenderBenchmark} (figures: {@code docs/benchmarks.md}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FrameRenderBenchmark {

  static final int N = 128;
  static final int POINTS = 10_000;
  Arena arena;
  MemorySegment originals;
  MemorySegment reconstructions;
  float[] originalsHeap;
  float[] reconstructionsHeap;
  float[] xy;
  int[] labels;
  final FrameRenderer nativeRenderer = new KernelFrameRenderer(Kernels.best());
  final FrameRenderer javaRenderer = new KernelFrameRenderer(new JavaFrameKernels());
  final List<String> classes = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

  @Setup(Level.Trial)
  public void setUp() {
    Random r = new Random(1);
    // Image-like content (strokes on black, as in the datasets), not noise: PNG cost depends on it.
    byte[] pixels = dev.latentstream.data.Synthetic.generate(N, 1, 7).train().pixels();
    originalsHeap = new float[N * 784];
    reconstructionsHeap = new float[N * 784];
    for (int i = 0; i < originalsHeap.length; i++) {
      originalsHeap[i] = (pixels[i] & 0xff) / 255f;
      reconstructionsHeap[i] = Math.min(1f, 0.8f * originalsHeap[i] + 0.05f * r.nextFloat());
    }
    arena = Arena.ofShared();
    // Off-heap, like a libtorch tensor's storage.
    originals = arena.allocateFrom(ValueLayout.JAVA_FLOAT, originalsHeap);
    reconstructions = arena.allocateFrom(ValueLayout.JAVA_FLOAT, reconstructionsHeap);
    xy = new float[2 * POINTS];
    labels = new int[POINTS];
    for (int i = 0; i < POINTS; i++) {
      xy[2 * i] = (float) r.nextGaussian();
      xy[2 * i + 1] = (float) r.nextGaussian();
      labels[i] = r.nextInt(10);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public byte[] gridNative() {
    return nativeRenderer.pairs(originals, reconstructions, N, 28, 28, 8).bytes();
  }

  @Benchmark
  public byte[] gridJavaKernels() {
    return javaRenderer.pairs(originals, reconstructions, N, 28, 28, 8).bytes();
  }

  /**
   * The path without the bridge: copy tensor floats to Java arrays, fill a BufferedImage, ImageIO.
   */
  @Benchmark
  public byte[] gridImageIo() throws Exception {
    float[] a = originals.toArray(ValueLayout.JAVA_FLOAT);
    float[] b = reconstructions.toArray(ValueLayout.JAVA_FLOAT);
    int cols = 16;
    int rows = 2 * N / cols;
    BufferedImage img =
        new BufferedImage(cols * 30 + 2, rows * 30 + 2, BufferedImage.TYPE_BYTE_GRAY);
    var raster = img.getRaster();
    for (int t = 0; t < 2 * N; t++) {
      float[] src = t % 2 == 0 ? a : b;
      int base = (t / 2) * 784;
      int ox = 2 + (t % cols) * 30;
      int oy = 2 + (t / cols) * 30;
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          raster.setSample(
              ox + x,
              oy + y,
              0,
              Math.round(Math.max(0, Math.min(1, src[base + y * 28 + x])) * 255));
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  @Benchmark
  public byte[] scatterNative() {
    return scatter(nativeRenderer);
  }

  @Benchmark
  public byte[] scatterJava() {
    return scatter(javaRenderer);
  }

  /** The 10k points over [-3, 3]², 512 pixels square, heap arrays read in place. */
  private byte[] scatter(FrameRenderer renderer) {
    return renderer
        .scatter(
            MemorySegment.ofArray(xy),
            MemorySegment.ofArray(labels),
            POINTS,
            -3,
            3,
            -3,
            3,
            512,
            classes)
        .bytes();
  }

  public static void main(String[] args) throws Exception {
    new Runner(new OptionsBuilder().include(FrameRenderBenchmark.class.getSimpleName()).build())
        .run();
  }
}
