package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import dev.latentstream.wire.PlaneAxes;
import dev.latentstream.wire.ScatterPoints;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** Frames cross the event bus unchanged: by reference locally, byte for byte in the wire form. */
class FrameMessageCodecTest {

  final FrameMessage.Codec codec = new FrameMessage.Codec();

  @Test
  void theLocalFormIsTheSameObject() {
    FrameMessage m =
        FrameMessage.of(3, new Frame(FrameKind.RECON, 10, 1, 4, 2, new byte[] {1, 2, 3}));
    assertSame(m, codec.transform(m));
  }

  @Test
  void theWireFormRoundTripsHeaderPixelsPlaneAndAxes() {
    Frame f =
        new Frame(
            FrameKind.LATENT,
            123_456_789_012L,
            7,
            662,
            512,
            new byte[] {9, 8, 7, 6},
            new float[] {-1.5f, 2.5f, -3f, 4f},
            new ScatterPoints(
                3, new float[] {-1.5f, -3f, 2.5f, 4f, 0.5f, 0.5f}, new byte[] {0, 9, (byte) 200}),
            new PlaneAxes(
                new float[] {0.25f, -1f, 3f},
                new double[] {0.6, 0.8, 1e-17},
                new double[] {-0.8, 0.6, Math.PI}));
    FrameMessage m = FrameMessage.of(42, f);
    Buffer wire = Buffer.buffer().appendString("prefix");
    codec.encodeToWire(wire, m);
    FrameMessage back = codec.decodeFromWire(6, wire);
    assertEquals(42, back.job());
    assertEquals(FrameKind.LATENT, back.frame().kind());
    assertEquals(123_456_789_012L, back.frame().step());
    assertEquals(7, back.frame().epoch());
    assertEquals(662, back.frame().width());
    assertEquals(512, back.frame().height());
    assertArrayEquals(f.png(), back.frame().png());
    assertArrayEquals(f.plane(), back.frame().plane());
    assertArrayEquals(f.axes().origin(), back.frame().axes().origin());
    assertArrayEquals(f.axes().axisU(), back.frame().axes().axisU());
    assertArrayEquals(f.axes().axisV(), back.frame().axes().axisV());
    assertArrayEquals(m.wsFrame().getBytes(), back.wsFrame().getBytes());
    assertArrayEquals(m.pointsFrame().getBytes(), back.pointsFrame().getBytes());
    assertArrayEquals(f.points().labels(), back.frame().points().labels());
    FrameMessage noPlane =
        FrameMessage.of(1, new Frame(FrameKind.SAMPLES, 1, 0, 1, 1, new byte[] {5}));
    Buffer w2 = Buffer.buffer();
    codec.encodeToWire(w2, noPlane);
    FrameMessage plain = codec.decodeFromWire(0, w2);
    assertNull(plain.frame().plane());
    assertNull(plain.frame().axes());
    assertNull(plain.pointsFrame());
  }

  @Test
  void aLatentFrameAlsoTravelsAsPointsQuantisedOverThePlaneRange() {
    float[] plane = {-2f, 2f, -1f, 3f};
    float[] xy = {-2f, -1f, 2f, 3f, 0f, 1f, 1.25f, -0.5f};
    Frame f =
        new Frame(
            FrameKind.LATENT,
            5,
            1,
            662,
            512,
            new byte[] {1},
            plane,
            new ScatterPoints(4, xy, new byte[] {3, 1, 4, (byte) 255}));
    Buffer b = FrameMessage.of(7, f).pointsFrame();
    assertEquals(FrameHeader.FORMAT_POINTS, b.getByte(2));
    assertEquals(FrameKind.LATENT.code(), b.getByte(1));
    assertEquals(7, b.getInt(4));
    assertEquals(512, b.getShort(20) & 0xffff, "a square plot: width = height");
    assertEquals(FrameHeader.BYTES + FrameHeader.POINTS_HEADER_BYTES + 5 * 4, b.length());
    // the ends of the range are 0 and 65535 exactly; y grows upwards like the plane's
    assertEquals(0, b.getUnsignedShort(44));
    assertEquals(0, b.getUnsignedShort(46));
    assertEquals(65535, b.getUnsignedShort(48));
    assertEquals(65535, b.getUnsignedShort(50));
    assertEquals(32768, b.getUnsignedShort(52)); // (0 - -2) / 4 * 65535 = 32767.5, rounded half up
    ScatterPoints back = FrameMessage.readPoints(b);
    for (int i = 0; i < xy.length; i++) {
      assertEquals(xy[i], back.xy()[i], 4f / 65535, "coordinate " + i);
    }
    assertArrayEquals(new byte[] {3, 1, 4, (byte) 255}, back.labels());
  }

  @Test
  void aPointOutsideTheRangeIsClampedToItsEdgeAndNaNToTheMiddle() {
    assertEquals(0, FrameMessage.quantise(-10f, -1f, 1f));
    assertEquals(65535, FrameMessage.quantise(10f, -1f, 1f));
    assertEquals(32768, FrameMessage.quantise(Float.NaN, -1f, 1f));
    assertEquals(
        32768, FrameMessage.quantise(0f, 1f, 1f), "an empty range puts every point in the middle");
  }
}
