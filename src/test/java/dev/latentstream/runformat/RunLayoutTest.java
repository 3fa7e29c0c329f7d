package dev.latentstream.runformat;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.wire.FrameKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which run files a trainer node hands to gateway nodes: the layout's own, and no name that leaves
 * the run.
 */
class RunLayoutTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "metrics.csv",
        "checkpoint/latest.pt",
        "reconst-1.png",
        "sampled-12.png",
        "latent-400.png",
        "manifold-999999999.png",
        "export/all-938.safetensors",
        "export/decoder-0.pt"
      })
  void theLayoutsOwnFilesAreServed(String name) {
    assertTrue(RunLayout.servable(name), name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "job.json",
        "../metrics.csv",
        "/etc/passwd",
        "checkpoint/../../x",
        "checkpoint/previous.pt",
        "latent-0.png",
        "latent--1.png",
        "latent-1.png/..",
        "latent-1.PNG",
        "x/latent-1.png",
        "latent-1.png\u0000",
        "metrics.csv ",
        "manifold-1000000000.png",
        "..",
        "checkpoint",
        "export/encoder-1.pt",
        "export/all-1.onnx",
        "export/all-.pt",
        "export/../all-1.pt",
        "all-1.pt",
        "export/all-1.pt/.."
      })
  void anythingElseIsNot(String name) {
    assertFalse(RunLayout.servable(name), name);
  }

  @org.junit.jupiter.api.Test
  void everyFrameFileTheWriterNamesIsServed() {
    for (FrameKind kind : FrameKind.values()) {
      assertTrue(RunLayout.servable(RunLayout.frameFile(kind, 7)), kind.name());
    }
    assertTrue(RunLayout.servable(MetricsCsv.FILE));
    assertTrue(RunLayout.servable(RunLayout.CHECKPOINT));
    for (String format : RunLayout.MODEL_FORMATS) {
      for (String part : RunLayout.MODEL_PARTS) {
        assertTrue(RunLayout.servable(RunLayout.modelFile(part, 469, format)), part + " " + format);
      }
    }
  }
}
