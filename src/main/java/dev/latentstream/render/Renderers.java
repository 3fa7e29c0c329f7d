package dev.latentstream.render;

import dev.latentstream.nativelib.JavaFrameKernels;
import dev.latentstream.nativelib.Kernels;

/** Chooses the frame renderer for this process: native kernels when they load, Java otherwise. */
public final class Renderers {
  private static final FrameRenderer BEST = new KernelFrameRenderer(Kernels.best());

  private Renderers() {}

  /** The fastest renderer that works here. */
  public static FrameRenderer best() {
    return BEST;
  }

  /** The pure-Java renderer, whatever else is available. */
  public static FrameRenderer java() {
    return new KernelFrameRenderer(new JavaFrameKernels());
  }
}
