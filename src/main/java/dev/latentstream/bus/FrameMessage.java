package dev.latentstream.bus;

import dev.latentstream.train.Frame;
import dev.latentstream.train.FrameKind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * A rendered frame on the event bus, with the binary WebSocket frame already built once: every
 * subscriber is sent the same {@link Buffer}. Locally the codec hands over the same object; across a
 * cluster it travels in its wire form.
 *
 * <p>Binary frame layout (protocol version 1, big-endian), 24-byte header then the PNG:
 * {@code u8 version, u8 kind, u8 format (1 = PNG), u8 reserved, u32 job, u64 step, u32 epoch,
 * u16 width, u16 height}.
 */
public record FrameMessage(int job, Frame frame, Buffer wsFrame) {

  public static final int HEADER_BYTES = 24;
  public static final int VERSION = 1;
  public static final int FORMAT_PNG = 1;

  public static FrameMessage of(int job, Frame f) {
    Buffer b = Buffer.buffer(HEADER_BYTES + f.png().length)
        .appendByte((byte) VERSION).appendByte((byte) f.kind().code()).appendByte((byte) FORMAT_PNG)
        .appendByte((byte) 0).appendInt(job).appendLong(f.step()).appendInt(f.epoch())
        .appendShort((short) f.width()).appendShort((short) f.height()).appendBytes(f.png());
    return new FrameMessage(job, f, b);
  }

  /** The event-bus codec: identity locally, header + PNG + plane range on the wire. */
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
      }
      Frame f = new Frame(FrameKind.fromCode(ws.getByte(1)), ws.getLong(8), ws.getInt(16),
          ws.getShort(20) & 0xffff, ws.getShort(22) & 0xffff, ws.getBytes(HEADER_BYTES, ws.length()), plane);
      return new FrameMessage(ws.getInt(4), f, ws);
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
