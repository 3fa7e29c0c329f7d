package dev.latentstream.explore;

import dev.latentstream.data.Dataset;
import dev.latentstream.data.Split;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.TensorData;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link LiveModel} over the trainer's model. Every call happens on the trainer thread inside the
 * request's {@code PointerScope}; inputs are validated here, so nothing malformed reaches libtorch.
 *
 * <p>The trainer owns the model and hands it over with {@link #attach} once built; it refreshes the
 * latent plane with {@link #update} after each scan of the test set and calls {@link #close} before
 * it frees the model, after which every call fails with "the run has ended".
 */
public final class LiveView implements LiveModel {

  private volatile Dataset data;
  private Autoencoder model;
  private Device device;
  private LatentGeometry geometry;
  private volatile boolean closed;

  public LiveView(Dataset data) {
    this.data = data;
  }

  /**
   * The data set, model and device of a view made before its data set loaded (a finished run's
   * explorer).
   */
  public void attach(Dataset data, Autoencoder model, Device device) {
    this.data = data;
    attach(model, device);
  }

  /** The model requests run against, and the device its tensors live on. */
  public void attach(Autoencoder model, Device device) {
    this.model = model;
    this.device = device;
  }

  /** The latent plane of the most recent scan of the test set. */
  public void update(LatentGeometry geometry) {
    this.geometry = geometry;
  }

  public void close() {
    closed = true;
  }

  private Autoencoder model() {
    if (closed || model == null) {
      throw new IllegalStateException("the run has ended");
    }
    return model;
  }

  private LatentGeometry geometry() {
    model();
    if (geometry == null) {
      throw new IllegalStateException("the latent plane is not ready yet");
    }
    return geometry;
  }

  @Override
  public int latentDim() {
    return model().latentDim();
  }

  @Override
  public int imageHeight() {
    return data.test().rows();
  }

  @Override
  public int imageWidth() {
    return data.test().cols();
  }

  @Override
  public boolean variational() {
    return model().job().model().variational();
  }

  @Override
  public float[] decode(float[] z, int n) {
    Autoencoder m = model();
    requireLength("z", z, n, m.latentDim());
    try (NoGradGuard g = new NoGradGuard()) {
      m.eval();
      Tensor codes = TensorData.tensor(z, n, m.latentDim()).to(device, ScalarType.Float);
      return TensorData.floats(m.decode(codes));
    } finally {
      m.train(true);
    }
  }

  @Override
  public Encoding encode(float[] pixels, int n) {
    Autoencoder m = model();
    requireLength("pixels", pixels, n, m.pixels());
    try (NoGradGuard g = new NoGradGuard()) {
      m.eval();
      Tensor x = TensorData.tensor(pixels, n, m.pixels()).to(device, ScalarType.Float);
      Autoencoder.Encoded e = m.encode(x);
      float[] mean = TensorData.floats(e.mean());
      float[] logVar = e.logVar() == null ? new float[mean.length] : TensorData.floats(e.logVar());
      return new Encoding(mean, logVar, TensorData.floats(m.decode(e.mean())));
    } finally {
      m.train(true);
    }
  }

  private static void requireLength(String what, float[] values, int n, int per) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1, got " + n);
    }
    if (values == null || values.length != (long) n * per) {
      throw new IllegalArgumentException(
          what
              + ": expected "
              + n
              + " x "
              + per
              + " = "
              + (long) n * per
              + " values, got "
              + (values == null ? 0 : values.length));
    }
    for (float v : values) {
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(what + ": values must be finite numbers");
      }
    }
  }

  @Override
  public int testCount() {
    return data.test().count();
  }

  @Override
  public float[] testImage(int index) {
    Split test = data.test();
    checkIndex(index, test.count());
    return TensorData.unitFloats(test.pixels(), index * test.imageSize(), test.imageSize());
  }

  @Override
  public int testLabel(int index) {
    checkIndex(index, data.test().count());
    return data.test().label(index);
  }

  private static void checkIndex(int index, int count) {
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException(
          "test image index must be from 0 to " + (count - 1) + ", got " + index);
    }
  }

  @Override
  public List<String> classNames() {
    return data.classNames();
  }

  @Override
  public float[] classMean(int label) {
    model();
    LatentGeometry g = geometry();
    if (label < 0 || label >= g.classMeans.length) {
      throw new IllegalArgumentException(
          "class must be from 0 to " + (g.classMeans.length - 1) + ", got " + label);
    }
    return g.classMeans[label].clone();
  }

  @Override
  public float[] toPlane(float[] z) {
    requireLength("z", z, 1, latentDim());
    return geometry().toPlane(z);
  }

  @Override
  public float[] fromPlane(float u, float v) {
    model();
    if (!Float.isFinite(u) || !Float.isFinite(v)) {
      throw new IllegalArgumentException("plane coordinates must be finite numbers");
    }
    return geometry().fromPlane(u, v);
  }

  @Override
  public float[] planeStd(float[] logVar) {
    requireLength("logVar", logVar, 1, latentDim());
    return geometry().planeStd(logVar);
  }
}
