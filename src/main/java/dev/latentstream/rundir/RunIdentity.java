package dev.latentstream.rundir;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.runformat.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code identity.json}: the run's id (its directory's name) and number, fixed when a server first
 * numbers the run, so every later server, a gateway, the page and a script call the run the same;
 * and for a member of a sweep the sweep's id ({@code sweep}, absent otherwise), so a restarted
 * server still lists the members together. A {@code format} above {@link #FORMAT} means a newer
 * latentstream wrote the run: it is refused (listed as damaged), never rewritten. Written whole or
 * not at all (a temporary file renamed over it). Blocking; any thread but an event loop.
 */
public record RunIdentity(String id, int num, String sweep) {

  /** A run that is no sweep's member. */
  public RunIdentity(String id, int num) {
    this(id, num, null);
  }

  public static final String FILE = "identity.json";
  public static final int FORMAT = 1;

  /** A run directory from a newer version of latentstream than this one. */
  public static final class FutureFormat extends IOException {
    FutureFormat(Path file, long format) {
      super(
          file.getFileName()
              + " has format "
              + format
              + "; this latentstream reads up to "
              + FORMAT
              + " (the run was written by a newer version)");
    }
  }

  /**
   * The identity kept in {@code runDir}; empty when the run has none yet (a headless run, or one
   * from before identities).
   *
   * @throws IOException when the file is not an identity (damaged) or from a newer version ({@link
   *     FutureFormat})
   */
  public static Optional<RunIdentity> read(Path runDir) throws IOException {
    Path file = runDir.resolve(FILE);
    Optional<JsonNode> read = JsonFiles.read(file);
    if (read.isEmpty()) {
      return Optional.empty();
    }
    JsonNode o = read.get();
    if (!o.isObject() || !o.path("format").canConvertToLong()) {
      throw new IOException(FILE + " is not a run identity (no \"format\")");
    }
    if (o.get("format").asLong() > FORMAT) {
      throw new FutureFormat(file, o.get("format").asLong());
    }
    if (!o.path("id").isTextual() || !o.path("num").canConvertToInt() || o.get("num").asInt() < 1) {
      throw new IOException(FILE + " needs \"id\" (a string) and \"num\" (a number from 1)");
    }
    if (o.has("sweep") && !o.get("sweep").isTextual()) {
      throw new IOException(FILE + ": \"sweep\" must be a string (the sweep's id)");
    }
    return Optional.of(
        new RunIdentity(
            o.get("id").asText(),
            o.get("num").asInt(),
            o.has("sweep") ? o.get("sweep").asText() : null));
  }

  /** Writes this identity into {@code runDir} (made if missing), whole or not at all. */
  public void write(Path runDir) {
    Path file = runDir.resolve(FILE);
    try {
      Files.createDirectories(runDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    var node =
        JobConfigs.JSON.createObjectNode().put("format", FORMAT).put("id", id).put("num", num);
    if (sweep != null) {
      node.put("sweep", sweep);
    }
    AtomicFile.write(file, node.toPrettyString().getBytes(StandardCharsets.UTF_8));
  }
}
