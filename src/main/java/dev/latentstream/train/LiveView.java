package dev.latentstream.train;

import dev.latentstream.data.Split;
import dev.latentstream.model.Autoencoder;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link LiveModel} over the trainer's model. Every call happens on the trainer thread inside the
 * request's {@code PointerScope}; inputs are validated here, so nothing malformed reaches libtorch.
 */
final class LiveView implements LiveModel {

  private final Trainer trainer;
  volatile boolean closed;

  LiveView(Trainer trainer) {
    this.trainer = trainer;
  }

  private Autoencoder model() {
    if (closed) {
      throw new IllegalStateException("the run has ended");
    }
    return trainer.model();
  }

  @Override
  public int latentDim() {
    return model().latentDim();
  }

  @Override
  public int imageHeight() {
    return trainer.data().test().rows();
  }

  @Override
  public int imageWidth() {
    return trainer.data().test().cols();
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
      Tensor codes = TensorData.tensor(z, n, m.latentDim()).to(trainer.device(), ScalarType.Float);
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
      Tensor x = TensorData.tensor(pixels, n, m.pixels()).to(trainer.device(), ScalarType.Float);
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
      throw new IllegalArgumentException(what + ": expected " + n + " x " + per + " = " + (long) n * per
          + " values, got " + (values == null ? 0 : values.length));
    }
    for (float v : values) {
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(what + ": values must be finite numbers");
      }
    }
  }

  @Override
  public int testCount() {
    return trainer.data().test().count();
  }

  @Override
  public float[] testImage(int index) {
    Split test = trainer.data().test();
    checkIndex(index, test.count());
    return TensorData.unitFloats(test.pixels(), index * test.imageSize(), test.imageSize());
  }

  @Override
  public int testLabel(int index) {
    checkIndex(index, trainer.data().test().count());
    return trainer.data().test().label(index);
  }

  private static void checkIndex(int index, int count) {
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException("test image index must be from 0 to " + (count - 1) + ", got " + index);
    }
  }

  @Override
  public List<String> classNames() {
    return trainer.data().classNames();
  }

  @Override
  public float[] classMean(int label) {
    model();
    LatentGeometry g = trainer.geometry();
    if (label < 0 || label >= g.classMeans.length) {
      throw new IllegalArgumentException("class must be from 0 to " + (g.classMeans.length - 1) + ", got " + label);
    }
    return g.classMeans[label].clone();
  }

  @Override
  public float[] toPlane(float[] z) {
    requireLength("z", z, 1, latentDim());
    return trainer.geometry().toPlane(z);
  }

  @Override
  public float[] fromPlane(float u, float v) {
    model();
    if (!Float.isFinite(u) || !Float.isFinite(v)) {
      throw new IllegalArgumentException("plane coordinates must be finite numbers");
    }
    return trainer.geometry().fromPlane(u, v);
  }

  @Override
  public float[] planeStd(float[] logVar) {
    requireLength("logVar", logVar, 1, latentDim());
    return trainer.geometry().planeStd(logVar);
  }
}
