package dev.latentstream.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export formats' bytes, read back here by hand; the Python tests read them with torch itself.
 */
class ModelExportTest {

  @TempDir Path tmp;

  static ModelWeights weights(String spec) {
    JobConfig job = JobConfigs.parse(spec, "test", "test");
    try (Autoencoder model = Models.create(job, 28, 28)) {
      return ModelWeights.of(model, 3, 1234);
    }
  }

  static final String VAE = "{\"model\":\"vae\",\"hidden\":[32],\"latent\":3}";
  static final String CONV = "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[16,16],\"dense\":8}}";

  @Test
  void safetensorsHasAPaddedJsonHeaderWithContiguousOffsetsAndTheValuesInLittleEndian()
      throws Exception {
    ModelWeights w = weights(VAE);
    byte[] file = Safetensors.write(w);
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    long n = b.getLong();
    assertEquals(0, n % 8, "the header is padded to a multiple of 8");
    JsonNode header =
        JobConfigs.JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8).strip());
    JsonNode meta = header.get("__metadata__");
    assertEquals("1234", meta.get("step").asText());
    assertEquals("3", meta.get("epoch").asText());
    assertEquals("vae", meta.get("model").asText());
    assertEquals("all", meta.get("part").asText());
    assertEquals(3, JobConfigs.JSON.readTree(meta.get("spec").asText()).get("latent").asInt());
    meta.properties()
        .forEach(
            e ->
                assertTrue(e.getValue().isTextual(), "metadata values are strings: " + e.getKey()));
    long expected = 0;
    int data = 8 + (int) n;
    for (ModelWeights.Parameter p : w.parameters()) {
      JsonNode t = header.get(p.name());
      assertEquals("F32", t.get("dtype").asText());
      List<Long> shape = new ArrayList<>();
      t.get("shape").forEach(d -> shape.add(d.asLong()));
      assertEquals(java.util.Arrays.stream(p.shape()).boxed().toList(), shape, p.name());
      assertEquals(expected, t.get("data_offsets").get(0).asLong(), p.name());
      assertEquals(expected + p.bytes(), t.get("data_offsets").get(1).asLong(), p.name());
      float[] back = new float[p.values().length];
      ByteBuffer.wrap(file, data + (int) expected, (int) p.bytes())
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(back);
      assertArrayEquals(p.values(), back, p.name());
      expected += p.bytes();
    }
    assertEquals(file.length, data + expected, "no bytes after the last tensor");
    assertEquals(
        List.of(
            "encoder.linear0.weight",
            "encoder.linear0.bias",
            "mu.weight",
            "mu.bias",
            "logvar.weight",
            "logvar.bias",
            "decoder.linear0.weight",
            "decoder.linear0.bias",
            "decoder.linear1.weight",
            "decoder.linear1.bias"),
        w.parameters().stream().map(ModelWeights.Parameter::name).toList());
  }

  @Test
  void theDecoderPartKeepsOnlyTheDecodersModules() {
    assertEquals(
        List.of(
            "decoder.linear0.weight",
            "decoder.linear0.bias",
            "decoder.linear1.weight",
            "decoder.linear1.bias"),
        weights(VAE).only(ModelWeights.Part.decoder).parameters().stream()
            .map(ModelWeights.Parameter::name)
            .toList());
    assertEquals(
        List.of(
            "decoder_dense.weight",
            "decoder_dense.bias",
            "upsample.weight",
            "upsample.bias",
            "output.weight",
            "output.bias"),
        weights(CONV).only(ModelWeights.Part.decoder).parameters().stream()
            .map(ModelWeights.Parameter::name)
            .toList());
    assertEquals("decoder", weights(VAE).only(ModelWeights.Part.decoder).metadata().get("part"));
  }

  @Test
  void ptIsAStoredZipWithAPickleAndEachStorageAlignedTo64Bytes() throws Exception {
    ModelWeights w = weights(CONV);
    byte[] file = TorchStateDict.write(w);
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(file))) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
        entries.put(e.getName(), zip.readAllBytes());
      }
    }
    assertEquals("archive/data.pkl", entries.keySet().iterator().next());
    assertEquals("3\n", new String(entries.get("archive/version"), StandardCharsets.US_ASCII));
    assertEquals("little", new String(entries.get("archive/byteorder"), StandardCharsets.US_ASCII));
    byte[] pickle = entries.get("archive/data.pkl");
    assertEquals((byte) 0x80, pickle[0]);
    assertEquals(2, pickle[1]);
    assertEquals('.', pickle[pickle.length - 1]);
    String text = new String(pickle, StandardCharsets.ISO_8859_1);
    assertTrue(
        text.contains("collections\nOrderedDict\n")
            && text.contains("torch._utils\n_rebuild_tensor_v2\n")
            && text.contains("torch\nFloatStorage\n"),
        "only the weights-only unpickler's globals");
    for (int i = 0; i < w.parameters().size(); i++) {
      ModelWeights.Parameter p = w.parameters().get(i);
      assertTrue(text.contains(p.name()), p.name());
      byte[] raw = entries.get("archive/data/" + i);
      float[] back = new float[p.values().length];
      ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(back);
      assertArrayEquals(p.values(), back, p.name());
      int at = indexOf(file, raw);
      assertEquals(0, at % 64, p.name() + " starts at " + at);
    }
    assertArrayEquals(file, TorchStateDict.write(w), "the same weights give the same bytes");
  }

  @Test
  void writeReplacesTheFileWholeAndLeavesNoTemporaryFile() throws Exception {
    Path out = tmp.resolve("m.safetensors");
    Files.writeString(out, "old");
    long n = ModelExport.write(weights(VAE), ModelExport.Format.safetensors, out);
    assertEquals(n, Files.size(out));
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(out), files.toList());
    }
  }

  @Test
  void unknownFormatsAndPartsAreNamedInTheError() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> ModelExport.Format.named("onnx"))
            .getMessage()
            .contains("pt, safetensors"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> ModelExport.part("encoder"))
            .getMessage()
            .contains("all, decoder"));
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
