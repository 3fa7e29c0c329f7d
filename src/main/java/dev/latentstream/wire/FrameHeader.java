package dev.latentstream.wire;

import java.nio.ByteBuffer;

/**
 * The 24-byte big-endian header of every binary frame message ({@code web/api/protocol.md}, "Binary
 * frames"), and the one place that knows its layout: the field offsets below are the protocol's,
 * and {@link #write} and {@link #read} are its only codec in Java. The payload follows at {@link
 * #BYTES}: a PNG ({@link #FORMAT_PNG}) or, for latent frames, the scatter as points ({@link
 * #FORMAT_POINTS}, laid out at the {@code POINTS_*} offsets). Immutable; any thread.
 */
public record FrameHeader(
    int version, FrameKind kind, int format, int job, long step, int epoch, int width, int height) {

  /** The protocol's version, which every frame's header carries. */
  public static final int VERSION = 1;

  /** The header's length; the payload starts here. */
  public static final int BYTES = 24;

  public static final int VERSION_AT = 0; // u8
  public static final int KIND_AT = 1; // u8, FrameKind.code()
  public static final int FORMAT_AT = 2; // u8
  public static final int RESERVED_AT = 3; // u8, 0
  public static final int JOB_AT = 4; // u32
  public static final int STEP_AT = 8; // u64
  public static final int EPOCH_AT = 16; // u32
  public static final int WIDTH_AT = 20; // u16
  public static final int HEIGHT_AT = 22; // u16

  public static final int FORMAT_PNG = 1;
  public static final int FORMAT_POINTS = 2;

  /** Format 2: the plane's range, four f32 ({@code xMin, xMax, yMin, yMax}). */
  public static final int POINTS_RANGE_AT = BYTES;

  /** Format 2: the number of points, u32. */
  public static final int POINTS_COUNT_AT = 40;

  /** Format 2: {@code count} pairs of u16 {@code x, y}, then {@code count} u8 labels. */
  public static final int POINTS_XY_AT = 44;

  /** Format 2's range and count, between the header and the points. */
  public static final int POINTS_HEADER_BYTES = POINTS_XY_AT - BYTES;

  /** A point's bytes: x and y (u16 each) and its label (u8). */
  public static final int BYTES_PER_POINT = 5;

  public FrameHeader {
    if (format != FORMAT_PNG && format != FORMAT_POINTS) {
      throw new IllegalArgumentException("unknown frame format " + format);
    }
    if (width < 0 || width > 0xffff || height < 0 || height > 0xffff) {
      throw new IllegalArgumentException(
          "a frame's size must fit 16 bits, got " + width + " x " + height);
    }
  }

  /**
   * The header of {@code frame} as job {@code job}'s, in {@code format}, {@code width} pixels wide.
   */
  public static FrameHeader of(int job, Frame frame, int format, int width) {
    return new FrameHeader(
        VERSION, frame.kind(), format, job, frame.step(), frame.epoch(), width, frame.height());
  }

  /** Writes the header at {@code out}'s position, which moves on by {@link #BYTES}. */
  public ByteBuffer write(ByteBuffer out) {
    int at = out.position();
    ByteBuffer b = out.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
    b.put(at + VERSION_AT, (byte) version)
        .put(at + KIND_AT, (byte) kind.code())
        .put(at + FORMAT_AT, (byte) format)
        .put(at + RESERVED_AT, (byte) 0)
        .putInt(at + JOB_AT, job)
        .putLong(at + STEP_AT, step)
        .putInt(at + EPOCH_AT, epoch)
        .putShort(at + WIDTH_AT, (short) width)
        .putShort(at + HEIGHT_AT, (short) height);
    return out.position(at + BYTES);
  }

  /** The header as its {@link #BYTES} bytes. */
  public byte[] toBytes() {
    byte[] out = new byte[BYTES];
    write(ByteBuffer.wrap(out));
    return out;
  }

  /**
   * Reads the header at the start of {@code message} (its absolute positions; the buffer is not
   * moved).
   *
   * @throws IllegalArgumentException when the message is shorter than a header, or its version,
   *     kind or format is not one this build knows
   */
  public static FrameHeader read(ByteBuffer message) {
    if (message.remaining() < BYTES) {
      throw new IllegalArgumentException(
          "a frame message needs " + BYTES + " header bytes, got " + message.remaining());
    }
    ByteBuffer b = message.slice().order(java.nio.ByteOrder.BIG_ENDIAN);
    int version = Byte.toUnsignedInt(b.get(VERSION_AT));
    if (version != VERSION) {
      throw new IllegalArgumentException(
          "frame of protocol version " + version + ", not " + VERSION);
    }
    return new FrameHeader(
        version,
        FrameKind.fromCode(Byte.toUnsignedInt(b.get(KIND_AT))),
        Byte.toUnsignedInt(b.get(FORMAT_AT)),
        b.getInt(JOB_AT),
        b.getLong(STEP_AT),
        b.getInt(EPOCH_AT),
        Short.toUnsignedInt(b.getShort(WIDTH_AT)),
        Short.toUnsignedInt(b.getShort(HEIGHT_AT)));
  }

  /** {@link #read(ByteBuffer)} of a message's bytes. */
  public static FrameHeader read(byte[] message) {
    return read(ByteBuffer.wrap(message));
  }
}
