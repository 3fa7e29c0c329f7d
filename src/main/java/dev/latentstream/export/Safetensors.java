package dev.latentstream.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfigs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range in the data ({@code data_offsets}, from
 * the data's start) plus {@code __metadata__} strings, the header padded with spaces to a multiple
 * of 8, then the raw little-endian data in header order. Maven Central holds no maintained Java
 * writer, and the format is this small.
 */
public final class Safetensors {

  private Safetensors() {}

  /**
   * {@code weights} as one safetensors file, every tensor F32, {@link ModelWeights#metadata} as
   * metadata.
   */
  public static byte[] write(ModelWeights weights) {
    ObjectNode header = JobConfigs.JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    weights.metadata().forEach(meta::put);
    long offset = 0;
    for (ModelWeights.Parameter p : weights.parameters()) {
      ObjectNode t = header.putObject(p.name());
      t.put("dtype", "F32");
      ArrayNode shape = t.putArray("shape");
      Arrays.stream(p.shape()).forEach(shape::add);
      t.putArray("data_offsets").add(offset).add(offset + p.bytes());
      offset += p.bytes();
    }
    byte[] json;
    try {
      json = JobConfigs.JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a safetensors header", e);
    }
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    for (int i = json.length; i < padded; i++) {
      out.put((byte) ' ');
    }
    for (ModelWeights.Parameter p : weights.parameters()) {
      out.asFloatBuffer().put(p.values());
      out.position(out.position() + p.values().length * 4);
    }
    return out.array();
  }
}
