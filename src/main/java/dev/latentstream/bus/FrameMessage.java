package dev.latentstream.bus;

import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.PlaneAxes;
import dev.latentstream.wire.ScatterPoints;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * A rendered frame on the event bus, with its binary WebSocket messages already built once: every
 * subscriber is sent the same {@link Buffer}. Locally the codec hands over the same object; across
 * a cluster it travels in its wire form.
 *
 * <p>Binary frame layout ({@link FrameHeader}, which owns it): a 24-byte header then the payload.
 * Format 1 ({@link #wsFrame}): a PNG. Format 2 ({@link #pointsFrame}, latent frames only): the
 * scatter as points, {@code f32 xMin, xMax, yMin, yMax, u32 count}, then {@code count} pairs of
 * {@code u16 x, u16 y} (0 to 65535 across the range, y upwards), then {@code count} {@code u8}
 * labels; width and height are the size the PNG's plot has.
 */
public record FrameMessage(int job, Frame frame, Buffer wsFrame, Buffer pointsFrame) {

  public static FrameMessage of(int job, Frame f) {
    Buffer png =
        header(job, f, FrameHeader.FORMAT_PNG, f.width(), f.png().length).appendBytes(f.png());
    return new FrameMessage(
        job, f, png, f.points() == null || f.plane() == null ? null : points(job, f));
  }

  private static Buffer header(int job, Frame f, int format, int width, int payload) {
    return Buffer.buffer(FrameHeader.BYTES + payload)
        .appendBytes(FrameHeader.of(job, f, format, width).toBytes());
  }

  /**
   * Format 2: the points quantised to 16 bits over the plane's range (finer than any screen shows).
   */
  private static Buffer points(int job, Frame f) {
    ScatterPoints p = f.points();
    float[] r = f.plane();
    // The plot is the PNG's left height x height square; the points are drawn on a square too.
    Buffer b =
        header(
            job,
            f,
            FrameHeader.FORMAT_POINTS,
            f.height(),
            FrameHeader.POINTS_HEADER_BYTES + FrameHeader.BYTES_PER_POINT * p.count());
    for (float v : r) {
      b.appendFloat(v);
    }
    b.appendInt(p.count());
    for (int i = 0; i < p.count(); i++) {
      b.appendUnsignedShort(quantise(p.xy()[2 * i], r[0], r[1]));
      b.appendUnsignedShort(quantise(p.xy()[2 * i + 1], r[2], r[3]));
    }
    return b.appendBytes(p.labels());
  }

  static int quantise(float v, float min, float max) {
    double t = max > min ? (v - min) / (max - min) : 0.5;
    return (int) Math.round(Math.max(0, Math.min(1, Double.isNaN(t) ? 0.5 : t)) * 65535);
  }

  /** Reads a format-2 payload back: the points (to the quantisation's precision) and labels. */
  public static ScatterPoints readPoints(Buffer b) {
    int format = b.getUnsignedByte(FrameHeader.FORMAT_AT);
    if (format != FrameHeader.FORMAT_POINTS) {
      throw new IllegalArgumentException("not a points frame (format " + format + ")");
    }
    int p = FrameHeader.POINTS_RANGE_AT;
    float x0 = b.getFloat(p),
        x1 = b.getFloat(p + 4),
        y0 = b.getFloat(p + 8),
        y1 = b.getFloat(p + 12);
    int count = b.getInt(FrameHeader.POINTS_COUNT_AT);
    float[] xy = new float[2 * count];
    int at = FrameHeader.POINTS_XY_AT;
    for (int i = 0; i < count; i++) {
      xy[2 * i] = x0 + (x1 - x0) * b.getUnsignedShort(at + 4 * i) / 65535f;
      xy[2 * i + 1] = y0 + (y1 - y0) * b.getUnsignedShort(at + 4 * i + 2) / 65535f;
    }
    return new ScatterPoints(count, xy, b.getBytes(at + 4 * count, at + 5 * count));
  }

  /**
   * The event-bus codec: identity locally; on the wire the two WebSocket messages, the plane range
   * and the plane's axes.
   */
  public static final class Codec implements MessageCodec<FrameMessage, FrameMessage> {
    @Override
    public void encodeToWire(Buffer buffer, FrameMessage m) {
      buffer.appendInt(m.wsFrame().length()).appendBuffer(m.wsFrame());
      float[] plane = m.frame().plane();
      buffer.appendByte((byte) (plane == null ? 0 : 1));
      if (plane != null) {
        for (float v : plane) {
          buffer.appendFloat(v);
        }
      }
      PlaneAxes axes = m.frame().axes();
      buffer.appendInt(axes == null ? 0 : axes.dims());
      if (axes != null) {
        for (float v : axes.origin()) {
          buffer.appendFloat(v);
        }
        for (double v : axes.axisU()) {
          buffer.appendDouble(v);
        }
        for (double v : axes.axisV()) {
          buffer.appendDouble(v);
        }
      }
      Buffer points = m.pointsFrame();
      buffer.appendInt(points == null ? 0 : points.length());
      if (points != null) {
        buffer.appendBuffer(points);
      }
    }

    @Override
    public FrameMessage decodeFromWire(int pos, Buffer buffer) {
      int len = buffer.getInt(pos);
      Buffer ws = buffer.getBuffer(pos + 4, pos + 4 + len);
      int p = pos + 4 + len;
      float[] plane = null;
      if (buffer.getByte(p) == 1) {
        plane = new float[4];
        for (int i = 0; i < 4; i++) {
          plane[i] = buffer.getFloat(p + 1 + 4 * i);
        }
        p += 16;
      }
      p += 1;
      int dims = buffer.getInt(p);
      p += 4;
      PlaneAxes axes = null;
      if (dims > 0) {
        float[] origin = new float[dims];
        double[] u = new double[dims];
        double[] v = new double[dims];
        for (int i = 0; i < dims; i++) {
          origin[i] = buffer.getFloat(p + 4 * i);
          u[i] = buffer.getDouble(p + 4 * dims + 8 * i);
          v[i] = buffer.getDouble(p + 12 * dims + 8 * i);
        }
        axes = new PlaneAxes(origin, u, v);
        p += 20 * dims;
      }
      int pointsLength = buffer.getInt(p);
      Buffer pointsFrame = pointsLength == 0 ? null : buffer.getBuffer(p + 4, p + 4 + pointsLength);
      FrameHeader h = FrameHeader.read(ws.getBytes(0, FrameHeader.BYTES));
      Frame f =
          new Frame(
              h.kind(),
              h.step(),
              h.epoch(),
              h.width(),
              h.height(),
              ws.getBytes(FrameHeader.BYTES, ws.length()),
              plane,
              pointsFrame == null ? null : readPoints(pointsFrame),
              axes);
      return new FrameMessage(h.job(), f, ws, pointsFrame);
    }

    @Override
    public FrameMessage transform(FrameMessage m) {
      return m;
    }

    @Override
    public String name() {
      return "latentstream-frame";
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
