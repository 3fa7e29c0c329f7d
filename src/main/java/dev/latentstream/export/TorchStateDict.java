package dev.latentstream.export;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A PyTorch {@code state_dict} file as {@code torch.save} writes it and {@code torch.load(path,
 * weights_only=True)} reads it: a zip (stored, not deflated) holding {@code archive/data.pkl}, a
 * pickle (protocol 2) of an {@code OrderedDict} from names to tensors rebuilt by {@code
 * torch._utils._rebuild_tensor_v2} from persistent storages; {@code archive/data/N}, each storage's
 * raw little-endian floats, starting on a 64-byte boundary in the file as torch's writer aligns
 * them (so {@code mmap=True} works); {@code archive/byteorder} and {@code archive/version}.
 *
 * <p>Written here rather than by libtorch: the presets expose {@code torch::pickle_save(IValue)},
 * but no way to build the {@code c10::Dict} it would need (GenericDict has neither a constructor
 * nor an insert in Java). Only globals on the weights-only unpickler's allow-list appear ({@code
 * collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, {@code torch.FloatStorage}).
 */
public final class TorchStateDict {

  private TorchStateDict() {}

  private static final String ARCHIVE = "archive/";
  private static final int ALIGNMENT = 64;

  /** Entries get this DOS time, so the same weights always give the same bytes. */
  private static final long FIXED_TIME = 315_532_800_000L + 86_400_000L;

  /** {@code weights} as a {@code .pt} file's bytes. */
  public static byte[] write(ModelWeights weights) {
    ByteArrayOutputStream counted = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(counted)) {
      zip.setMethod(ZipOutputStream.STORED);
      put(zip, counted, "data.pkl", pickle(weights));
      put(zip, counted, "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
      int i = 0;
      for (ModelWeights.Parameter p : weights.parameters()) {
        ByteBuffer data =
            ByteBuffer.allocate(Math.toIntExact(p.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(p.values());
        put(zip, counted, "data/" + i++, data.array());
      }
      put(zip, counted, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a state_dict", e);
    }
    return counted.toByteArray();
  }

  /**
   * A stored entry whose data starts on an {@link #ALIGNMENT}-byte boundary (padding in an extra
   * field).
   */
  private static void put(
      ZipOutputStream zip, ByteArrayOutputStream counted, String name, byte[] data)
      throws IOException {
    zip.flush();
    String full = ARCHIVE + name;
    int fixedHeader = 30;
    int extraHeader = 4;
    long headerEnd =
        counted.size() + fixedHeader + full.getBytes(StandardCharsets.UTF_8).length + extraHeader;
    int pad = (int) ((ALIGNMENT - headerEnd % ALIGNMENT) % ALIGNMENT);
    ByteBuffer extra = ByteBuffer.allocate(extraHeader + pad).order(ByteOrder.LITTLE_ENDIAN);
    extra.putShort((short) 0x4246); // "FB", the id torch's own writer pads with
    extra.putShort((short) pad);
    for (int i = 0; i < pad; i++) {
      extra.put((byte) 'Z');
    }
    ZipEntry e = new ZipEntry(full);
    e.setMethod(ZipEntry.STORED);
    e.setTime(FIXED_TIME);
    e.setSize(data.length);
    e.setCompressedSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setCrc(crc.getValue());
    e.setExtra(extra.array());
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }

  /**
   * The pickle of {@code OrderedDict([(name, tensor), ...])}, storage {@code i} holding parameter
   * {@code i}.
   */
  static byte[] pickle(ModelWeights weights) {
    Pickle p = new Pickle();
    p.proto();
    p.global("collections", "OrderedDict").emptyTuple().reduce();
    p.mark();
    int i = 0;
    for (ModelWeights.Parameter param : weights.parameters()) {
      p.string(param.name());
      p.global("torch._utils", "_rebuild_tensor_v2");
      p.mark();
      // The persistent id: ("storage", torch.FloatStorage, key, location, numel)
      p.mark()
          .string("storage")
          .global("torch", "FloatStorage")
          .string(Integer.toString(i++))
          .string("cpu")
          .integer(param.values().length)
          .tuple()
          .persistentId();
      p.integer(0);
      long[] shape = param.shape();
      p.mark();
      for (long d : shape) {
        p.integer(d);
      }
      p.tuple();
      p.mark();
      long stride = 1;
      long[] strides = new long[shape.length];
      for (int d = shape.length - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d];
      }
      for (long s : strides) {
        p.integer(s);
      }
      p.tuple();
      p.bool(false);
      p.global("collections", "OrderedDict").emptyTuple().reduce();
      p.tuple().reduce();
    }
    p.setItems().stop();
    return p.out.toByteArray();
  }

  /**
   * The few pickle opcodes a state_dict needs (protocol 2; no memo, which unpicklers do not
   * require).
   */
  private static final class Pickle {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int code) {
      out.write(code);
      return this;
    }

    void proto() {
      op(0x80).op(2);
    }

    Pickle global(String module, String name) {
      op('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Pickle mark() {
      return op('(');
    }

    Pickle tuple() {
      return op('t');
    }

    Pickle emptyTuple() {
      return op(')');
    }

    Pickle reduce() {
      return op('R');
    }

    Pickle persistentId() {
      return op('Q');
    }

    Pickle setItems() {
      return op('u');
    }

    Pickle stop() {
      return op('.');
    }

    Pickle bool(boolean b) {
      return op(b ? 0x88 : 0x89);
    }

    Pickle string(String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      op('X');
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
      out.writeBytes(utf8);
      return this;
    }

    Pickle integer(long v) {
      if (v >= 0 && v < 256) {
        return op('K').op((int) v);
      }
      if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
        op('J');
        out.writeBytes(
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        return this;
      }
      op(0x8a).op(8); // LONG1: 8 little-endian two's-complement bytes
      out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
      return this;
    }
  }
}
