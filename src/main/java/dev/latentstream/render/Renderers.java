package dev.latentstream.render;

/** Chooses the frame renderer for this process. */
public final class Renderers {
  private static final FrameRenderer BEST = new JavaFrameRenderer();

  private Renderers() {}

  /** The fastest renderer that works here. */
  public static FrameRenderer best() {
    return BEST;
  }
}
