package dev.latentstream.rundir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.latentstream.config.JobConfigs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Reading the small JSON files of a run directory ({@code identity.json}, {@code status.json}). */
final class JsonFiles {
  private JsonFiles() {}

  /**
   * The JSON in {@code file}; empty when there is no such file. Blocking.
   *
   * @throws IOException when the file cannot be read or is not JSON (a damaged run)
   */
  static Optional<JsonNode> read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    try {
      JsonNode o = JobConfigs.JSON.readTree(text);
      return Optional.of(o == null ? MissingNode.getInstance() : o);
    } catch (IOException e) {
      throw new IOException(file + " is not JSON: " + e.getMessage(), e);
    }
  }
}
