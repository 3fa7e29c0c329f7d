package dev.latentstream.testing;

import org.bytedeco.pytorch.Module;

/**
 * What libtorch itself counts in a model: the truth that layouts and estimates are checked against.
 */
public final class ModelParameters {
  private ModelParameters() {}

  /** The number of values in every parameter tensor of {@code m}. */
  public static long count(Module m) {
    long total = 0;
    var ps = m.parameters();
    for (long i = 0; i < ps.size(); i++) {
      total += ps.get(i).numel();
    }
    return total;
  }
}
