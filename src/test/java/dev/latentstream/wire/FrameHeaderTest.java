package dev.latentstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class FrameHeaderTest {

  @Test
  void readsBackWhatItWrites() {
    FrameHeader h =
        new FrameHeader(
            FrameHeader.VERSION,
            FrameKind.LATENT,
            FrameHeader.FORMAT_POINTS,
            Integer.MAX_VALUE,
            123_456_789_012L,
            7,
            65535,
            512);
    assertEquals(h, FrameHeader.read(h.toBytes()));
  }

  @Test
  void writesAtTheBuffersPositionAndMovesItOnByTheHeader() {
    ByteBuffer b = ByteBuffer.allocate(3 + FrameHeader.BYTES).position(3);
    FrameHeader h =
        FrameHeader.of(
            5,
            new Frame(FrameKind.RECON, 9, 1, 300, 280, new byte[0]),
            FrameHeader.FORMAT_PNG,
            300);
    h.write(b);
    assertEquals(3 + FrameHeader.BYTES, b.position());
    assertEquals(h, FrameHeader.read(b.position(3)));
    assertEquals(FrameKind.RECON.code(), b.get(3 + FrameHeader.KIND_AT));
  }

  @Test
  void refusesAShortMessageAnotherVersionAndAnUnknownKind() {
    assertThrows(
        IllegalArgumentException.class, () -> FrameHeader.read(new byte[FrameHeader.BYTES - 1]));
    byte[] b =
        new FrameHeader(
                FrameHeader.VERSION, FrameKind.SAMPLES, FrameHeader.FORMAT_PNG, 1, 1, 1, 1, 1)
            .toBytes();
    b[FrameHeader.VERSION_AT] = 2;
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> FrameHeader.read(b))
            .getMessage()
            .contains("version 2"));
    b[FrameHeader.VERSION_AT] = FrameHeader.VERSION;
    b[FrameHeader.KIND_AT] = 9;
    assertThrows(IllegalArgumentException.class, () -> FrameHeader.read(b));
    b[FrameHeader.KIND_AT] = (byte) FrameKind.SAMPLES.code();
    b[FrameHeader.FORMAT_AT] = 3;
    assertThrows(IllegalArgumentException.class, () -> FrameHeader.read(b));
  }

  @Test
  void refusesASizeOver16Bits() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new FrameHeader(
                FrameHeader.VERSION, FrameKind.RECON, FrameHeader.FORMAT_PNG, 1, 1, 1, 65536, 1));
  }
}
