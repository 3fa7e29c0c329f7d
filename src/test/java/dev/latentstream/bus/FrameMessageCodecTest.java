package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.latentstream.train.Frame;
import dev.latentstream.train.FrameKind;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** Frames cross the event bus unchanged: by reference locally, byte for byte in the wire form. */
class FrameMessageCodecTest {

  final FrameMessage.Codec codec = new FrameMessage.Codec();

  @Test
  void theLocalFormIsTheSameObject() {
    FrameMessage m = FrameMessage.of(3, new Frame(FrameKind.RECON, 10, 1, 4, 2, new byte[] {1, 2, 3}));
    assertSame(m, codec.transform(m));
  }

  @Test
  void theWireFormRoundTripsHeaderPixelsAndPlane() {
    Frame f = new Frame(FrameKind.LATENT, 123_456_789_012L, 7, 662, 512, new byte[] {9, 8, 7, 6},
        new float[] {-1.5f, 2.5f, -3f, 4f});
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
    assertArrayEquals(m.wsFrame().getBytes(), back.wsFrame().getBytes());
    FrameMessage noPlane = FrameMessage.of(1, new Frame(FrameKind.SAMPLES, 1, 0, 1, 1, new byte[] {5}));
    Buffer w2 = Buffer.buffer();
    codec.encodeToWire(w2, noPlane);
    assertNull(codec.decodeFromWire(0, w2).frame().plane());
  }
}
