package dev.latentstream.train;

import dev.latentstream.explore.LatentGeometry;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Png;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameKind;
import dev.latentstream.wire.ScatterPoints;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Renders the four image streams from the live model. Runs on the trainer thread inside the
 * caller's {@code PointerScope}, with gradients off and the model in eval mode. The fixed inputs
 * (the test batch and the prior noise) are chosen once per run, so consecutive frames differ only
 * by what the model learnt.
 */
final class FrameMaker {

  static final int RECON_COUNT = 32;
  static final int RECON_COLUMNS = 8;
  static final int SAMPLE_COUNT = 64;
  static final int SAMPLE_COLUMNS = 8;
  static final int MANIFOLD_SIDE = 15;
  static final int SCATTER_SIZE = 512;

  private final FrameRenderer renderer;
  private final Device device;
  private final List<String> classNames;
  private final int classes;
  private final int height;
  private final int width;
  private final float[] priorNoise;

  FrameMaker(
      FrameRenderer renderer,
      Device device,
      List<String> classNames,
      int classes,
      int height,
      int width,
      float[] priorNoise) {
    this.renderer = renderer;
    this.device = device;
    this.classNames = LatentGeometry.names(classNames, classes);
    this.classes = classes;
    this.height = height;
    this.width = width;
    this.priorNoise = priorNoise;
  }

  /**
   * @param reconShown the fixed test batch as shown on the left of each pair (CPU, contiguous)
   * @param reconInput the same batch as fed to the model (corrupted for the denoising autoencoder)
   */
  List<Frame> render(
      Autoencoder model,
      Tensor reconShown,
      Tensor reconInput,
      LatentGeometry geometry,
      long step,
      int epoch) {
    List<Frame> frames = new ArrayList<>(4);
    int n = (int) reconShown.size(0);
    Tensor recon =
        TensorData.cpuContiguousFloat(model.reconstruct(reconInput.to(device, ScalarType.Float)));
    frames.add(
        frame(
            FrameKind.RECON,
            step,
            epoch,
            renderer.pairs(
                TensorData.segment(reconShown),
                TensorData.segment(recon),
                n,
                height,
                width,
                RECON_COLUMNS)));

    frames.add(
        frame(
            FrameKind.SAMPLES,
            step,
            epoch,
            grid(model, sampleCodes(model, geometry), SAMPLE_COLUMNS)));

    float[] xy = geometry.projected();
    float[] r = LatentGeometry.range(xy);
    Png scatter =
        renderer.scatter(
            MemorySegment.ofArray(xy),
            MemorySegment.ofArray(geometry.labels),
            geometry.count,
            r[0],
            r[1],
            r[2],
            r[3],
            SCATTER_SIZE,
            classNames);
    frames.add(
        new Frame(
            FrameKind.LATENT,
            step,
            epoch,
            scatter.width(),
            scatter.height(),
            scatter.bytes(),
            r,
            ScatterPoints.subsample(xy, geometry.labels, geometry.count),
            geometry.planeAxes()));

    frames.add(
        frame(
            FrameKind.MANIFOLD,
            step,
            epoch,
            grid(model, geometry.manifold(MANIFOLD_SIDE, model.hasPrior()), MANIFOLD_SIDE)));
    return frames;
  }

  /** Fixed prior noise; for models without a prior, mapped onto the codes' own mean and spread. */
  private float[] sampleCodes(Autoencoder model, LatentGeometry geometry) {
    if (model.hasPrior()) {
      return priorNoise;
    }
    int d = geometry.dims;
    float[] z = new float[priorNoise.length];
    for (int i = 0; i < z.length; i++) {
      z[i] = geometry.mean[i % d] + geometry.std[i % d] * priorNoise[i];
    }
    return z;
  }

  private Png grid(Autoencoder model, float[] codes, int columns) {
    int d = model.latentDim();
    int n = codes.length / d;
    Tensor z = TensorData.tensor(codes, n, d).to(device, ScalarType.Float);
    Tensor images = TensorData.cpuContiguousFloat(model.decode(z));
    return renderer.grid(TensorData.segment(images), n, height, width, columns);
  }

  private static Frame frame(FrameKind kind, long step, int epoch, Png png) {
    return new Frame(kind, step, epoch, png.width(), png.height(), png.bytes());
  }

  int classes() {
    return classes;
  }
}
