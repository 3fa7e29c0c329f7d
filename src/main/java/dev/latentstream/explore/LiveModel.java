package dev.latentstream.explore;

import java.util.List;

/**
 * The model as it is right now, for interactive requests (decode, encode, interpolate, attribute).
 * Obtain it only inside {@code Trainer.submit}: its methods run on the trainer thread, between
 * steps, and every array in or out is a plain Java copy with no tie to libtorch memory.
 */
public interface LiveModel {

  int latentDim();

  int imageHeight();

  int imageWidth();

  /**
   * True for models with a posterior (vae, conv-vae): {@link Encoding#logVar} is then meaningful.
   */
  boolean variational();

  /**
   * Decodes {@code n} latent points ({@code n * latentDim()} floats) into {@code n} images of
   * floats in [0, 1].
   */
  float[] decode(float[] z, int n);

  /** Encodes {@code n} images ({@code n * height * width} floats in [0, 1]). */
  Encoding encode(float[] pixels, int n);

  /**
   * Posterior means (or codes), log-variances (all zero for deterministic encoders) and
   * reconstructions, each laid out image after image.
   */
  record Encoding(float[] mean, float[] logVar, float[] reconstruction) {}

  int testCount();

  /** Test image {@code index} as {@code height * width} floats in [0, 1]. */
  float[] testImage(int index);

  int testLabel(int index);

  List<String> classNames();

  /**
   * The mean code of the test images of class {@code label}, from the most recent pass over the
   * test set.
   */
  float[] classMean(int label);

  /**
   * Where latent point {@code z} lies on the plane of the latest latent frame (PCA axes above 2-D).
   */
  float[] toPlane(float[] z);

  /** The latent point shown at (u, v) on the plane of the latest latent frame. */
  float[] fromPlane(float u, float v);

  /** A posterior's standard deviation along the two plane axes. */
  float[] planeStd(float[] logVar);
}
