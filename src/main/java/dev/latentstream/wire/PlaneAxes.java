package dev.latentstream.wire;

/**
 * How a latent frame's plane maps to latent points: the point shown at plane coordinates (u, v) is
 * {@code origin + u·axisU + v·axisV}, each sum in double and the result rounded to float (what
 * {@code LatentGeometry.fromPlane} does). With more than two latent dimensions the origin is the
 * codes' mean and the axes their first two principal directions; with two, the origin is zero and
 * the axes the identity. A page that decodes locally needs this to turn a hover into a code.
 */
public record PlaneAxes(float[] origin, double[] axisU, double[] axisV) {

  public PlaneAxes {
    if (origin.length == 0 || axisU.length != origin.length || axisV.length != origin.length) {
      throw new IllegalArgumentException(
          "origin and axes need the same, non-zero length: "
              + origin.length
              + ", "
              + axisU.length
              + ", "
              + axisV.length);
    }
  }

  public int dims() {
    return origin.length;
  }
}
