package dev.latentstream.wire;

/**
 * One rendered image stream frame, already PNG-encoded once; consumers share the bytes and never
 * modify them. {@code plane} is set on {@link FrameKind#LATENT} frames only: the data range {@code
 * [xMin, xMax, yMin, yMax]} of the square plot area (the left {@code height} pixels of the image),
 * so a viewer can map a pixel back to plane coordinates for {@link LiveModel#fromPlane}, and {@code
 * points} the same scatter as data for viewers that draw it themselves. {@code axes} (latent frames
 * of a live run; null otherwise) says which latent point each plane point stands for.
 */
public record Frame(
    FrameKind kind,
    long step,
    int epoch,
    int width,
    int height,
    byte[] png,
    float[] plane,
    ScatterPoints points,
    PlaneAxes axes) {

  public Frame(
      FrameKind kind,
      long step,
      int epoch,
      int width,
      int height,
      byte[] png,
      float[] plane,
      ScatterPoints points) {
    this(kind, step, epoch, width, height, png, plane, points, null);
  }

  public Frame(FrameKind kind, long step, int epoch, int width, int height, byte[] png) {
    this(kind, step, epoch, width, height, png, null, null, null);
  }
}
