package dev.latentstream.explore;

import dev.latentstream.wire.PlaneAxes;
import java.util.List;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * The shape of a set of codes: their mean, per-dimension spread, class means and the two principal
 * directions. Used to draw the latent scatter (PCA to 2-D when the latent has more dimensions), the
 * manifold grid and, for models without a prior, the distribution that samples are drawn from.
 *
 * <p>Immutable once built: the arrays are shared with readers, which must not modify them.
 */
public final class LatentGeometry {

  /** Test images scanned for the latent plane between epochs (epoch ends use them all). */
  public static final int SCAN_COUNT = 2000;

  public final int dims;
  public final float[] mean;
  public final float[] std;

  /**
   * Rows: the first and second principal direction (unit vectors); the identity axes when dims ==
   * 2.
   */
  public final double[][] axes;

  /** Standard deviation of the codes along each of {@link #axes}. */
  public final double[] axisStd;

  public final float[][] classMeans;
  public final float[] codes;
  public final int[] labels;
  public final int count;

  public LatentGeometry(float[] codes, int[] labels, int count, int dims, int classes) {
    this.codes = codes;
    this.labels = labels;
    this.count = count;
    this.dims = dims;
    double[] m = new double[dims];
    for (int i = 0; i < count; i++) {
      for (int j = 0; j < dims; j++) {
        m[j] += codes[i * dims + j];
      }
    }
    for (int j = 0; j < dims; j++) {
      m[j] /= Math.max(1, count);
    }
    double[][] cov = new double[dims][dims];
    for (int i = 0; i < count; i++) {
      for (int a = 0; a < dims; a++) {
        double da = codes[i * dims + a] - m[a];
        for (int b = a; b < dims; b++) {
          cov[a][b] += da * (codes[i * dims + b] - m[b]);
        }
      }
    }
    mean = new float[dims];
    std = new float[dims];
    for (int a = 0; a < dims; a++) {
      for (int b = a; b < dims; b++) {
        cov[a][b] /= Math.max(1, count - 1);
        cov[b][a] = cov[a][b];
      }
      mean[a] = (float) m[a];
      std[a] = (float) Math.sqrt(cov[a][a]);
    }
    axes = new double[2][dims];
    axisStd = new double[2];
    if (dims == 1) {
      axes[0][0] = 1;
      axisStd[0] = std[0];
    } else if (dims == 2) {
      axes[0][0] = 1;
      axes[1][1] = 1;
      axisStd[0] = std[0];
      axisStd[1] = std[1];
    } else {
      RealMatrix c = MatrixUtils.createRealMatrix(cov);
      EigenDecomposition eig = new EigenDecomposition(c);
      double[] values = eig.getRealEigenvalues();
      Integer[] order = new Integer[dims];
      for (int i = 0; i < dims; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (x, y) -> Double.compare(values[y], values[x]));
      for (int k = 0; k < 2; k++) {
        double[] v = eig.getEigenvector(order[k]).toArray();
        // A fixed sign per direction keeps the scatter from flipping between frames.
        int big = 0;
        for (int j = 1; j < dims; j++) {
          if (Math.abs(v[j]) > Math.abs(v[big])) {
            big = j;
          }
        }
        double sign = v[big] < 0 ? -1 : 1;
        for (int j = 0; j < dims; j++) {
          axes[k][j] = sign * v[j];
        }
        axisStd[k] = Math.sqrt(Math.max(0, values[order[k]]));
      }
    }
    classMeans = new float[classes][dims];
    int[] perClass = new int[classes];
    for (int i = 0; i < count; i++) {
      int l = labels[i];
      if (l < 0 || l >= classes) {
        continue;
      }
      perClass[l]++;
      for (int j = 0; j < dims; j++) {
        classMeans[l][j] += codes[i * dims + j];
      }
    }
    for (int l = 0; l < classes; l++) {
      for (int j = 0; j < dims; j++) {
        classMeans[l][j] /= Math.max(1, perClass[l]);
      }
    }
  }

  /** A latent point on the scatter's plane (the same projection as {@link #projected()}). */
  public float[] toPlane(float[] z) {
    float[] out = new float[2];
    for (int k = 0; k < 2; k++) {
      double s = 0;
      for (int j = 0; j < dims; j++) {
        s += (z[j] - (dims > 2 ? mean[j] : 0)) * axes[k][j];
      }
      out[k] = (float) s;
    }
    return out;
  }

  /**
   * The latent point shown at plane coordinates (u, v): the codes' mean moved along the two axes.
   */
  public float[] fromPlane(float u, float v) {
    float[] z = new float[dims];
    for (int j = 0; j < dims; j++) {
      z[j] = (float) ((dims > 2 ? mean[j] : 0) + u * axes[0][j] + (dims > 1 ? v * axes[1][j] : 0));
    }
    return z;
  }

  /** {@link #fromPlane} as data, for clients that map plane points to codes themselves. */
  public PlaneAxes planeAxes() {
    float[] origin = dims > 2 ? mean.clone() : new float[dims];
    double[] v = dims > 1 ? axes[1].clone() : new double[dims];
    return new PlaneAxes(origin, axes[0].clone(), v);
  }

  /** The posterior's standard deviation along each plane axis, for uncertainty ellipses. */
  public float[] planeStd(float[] logVar) {
    float[] out = new float[2];
    for (int k = 0; k < 2; k++) {
      double var = 0;
      for (int j = 0; j < dims; j++) {
        var += axes[k][j] * axes[k][j] * Math.exp(logVar[j]);
      }
      out[k] = (float) Math.sqrt(var);
    }
    return out;
  }

  /**
   * The codes projected on the two axes (centred on the mean when projecting with PCA), x0, y0, x1,
   * y1, ...
   */
  public float[] projected() {
    float[] out = new float[count * 2];
    for (int i = 0; i < count; i++) {
      for (int k = 0; k < 2; k++) {
        double s = 0;
        for (int j = 0; j < dims; j++) {
          double centre = dims > 2 ? mean[j] : 0;
          s += (codes[i * dims + j] - centre) * axes[k][j];
        }
        out[i * 2 + k] = (float) s;
      }
    }
    return out;
  }

  /**
   * Latent points for an n×n manifold over the normal quantiles 0.05…0.95. With a 2-D latent and a
   * N(0, I) prior the quantiles are the coordinates themselves (the classic figure); otherwise they
   * are scaled by the codes' spread along the two principal directions, around the codes' mean.
   */
  public float[] manifold(int n, boolean prior) {
    NormalDistribution normal = new NormalDistribution();
    double[] q = new double[n];
    for (int i = 0; i < n; i++) {
      q[i] = normal.inverseCumulativeProbability(0.05 + 0.9 * i / (n - 1));
    }
    boolean direct = prior && dims == 2;
    float[] z = new float[n * n * dims];
    for (int row = 0; row < n; row++) {
      for (int col = 0; col < n; col++) {
        int p = (row * n + col) * dims;
        // Rows run top to bottom, so the vertical coordinate decreases down the grid.
        double u = q[col];
        double v = q[n - 1 - row];
        for (int j = 0; j < dims; j++) {
          double base = direct ? 0 : mean[j];
          double su = direct ? 1 : axisStd[0];
          double sv = direct ? 1 : axisStd[1];
          z[p + j] = (float) (base + u * su * axes[0][j] + (dims > 1 ? v * sv * axes[1][j] : 0));
        }
      }
    }
    return z;
  }

  /**
   * An axis range that holds nearly all projected points, padded by 5%: [xMin, xMax, yMin, yMax].
   */
  public static float[] range(float[] xy) {
    int n = xy.length / 2;
    if (n == 0) {
      return new float[] {-1, 1, -1, 1};
    }
    float[] r = new float[4];
    for (int k = 0; k < 2; k++) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = xy[i * 2 + k];
      }
      java.util.Arrays.sort(v);
      float lo = v[(int) Math.floor(0.005 * (n - 1))];
      float hi = v[(int) Math.ceil(0.995 * (n - 1))];
      if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
      }
      float pad = 0.05f * (hi - lo);
      r[2 * k] = lo - pad;
      r[2 * k + 1] = hi + pad;
    }
    return r;
  }

  public static List<String> names(List<String> classNames, int classes) {
    return classNames.size() >= classes
        ? classNames
        : java.util.stream.IntStream.range(0, classes).mapToObj(Integer::toString).toList();
  }
}
