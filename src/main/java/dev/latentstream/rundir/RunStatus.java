package dev.latentstream.rundir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.runformat.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code status.json}: where a run stands, so a server that did not train it (a restarted one, or
 * the run was headless) can list it as it is without building its model: the status, the steps and
 * epochs done of how many, the last test loss, the data set's class names, and why it failed. The
 * fields are named as in the server's job objects, which may write more of theirs into the same
 * file; {@link #read} takes these and ignores the rest. Written whole or not at all ({@link
 * AtomicFile}).
 *
 * @param status {@link #RUNNING}, {@link #COMPLETED}, {@link #STOPPED}, {@link #INTERRUPTED},
 *     {@link #FAILED} (a server also writes its own: {@code queued}, {@code paused})
 * @param testLoss NaN before the first epoch ends
 * @param error null unless failed
 */
public record RunStatus(
    String status,
    long step,
    int epoch,
    int epochs,
    int batchesPerEpoch,
    double testLoss,
    List<String> classes,
    String error,
    long updatedAt) {

  public static final String FILE = "status.json";
  public static final String RUNNING = "running";
  public static final String COMPLETED = "completed";

  /**
   * Stopped by its user: the server's {@code stop}, or Ctrl-C/SIGTERM to a headless {@code train}.
   * Resumed only when asked ({@code resume}, {@code train --resume}), never by a server's start.
   */
  public static final String STOPPED = "stopped";

  /**
   * Stopped by a server's shutdown, at a step it resumes from: the next server resumes it ({@code
   * resumeInterrupted}).
   */
  public static final String INTERRUPTED = "interrupted";

  public static final String FAILED = "failed";

  public RunStatus {
    classes = List.copyOf(classes);
  }

  /** The share of all steps done, 0 to 1 (0 while the steps per epoch are not known). */
  public double progress() {
    return batchesPerEpoch <= 0 || epochs <= 0
        ? 0.0
        : Math.min(1.0, step / ((double) epochs * batchesPerEpoch));
  }

  public RunStatus with(String newStatus, String newError) {
    return new RunStatus(
        newStatus,
        step,
        epoch,
        epochs,
        batchesPerEpoch,
        testLoss,
        classes,
        newError,
        System.currentTimeMillis());
  }

  public ObjectNode toJson() {
    ObjectNode o = JobConfigs.JSON.createObjectNode();
    o.put("status", status)
        .put("step", step)
        .put("epoch", epoch)
        .put("epochs", epochs)
        .put("batchesPerEpoch", batchesPerEpoch)
        .put("progress", progress());
    if (Double.isFinite(testLoss)) {
      o.put("testLoss", testLoss);
    }
    ArrayNode names = o.putArray("classes");
    classes.forEach(names::add);
    if (error != null) {
      o.put("error", error);
    }
    o.put("updatedAt", updatedAt);
    return o;
  }

  /** Replaces {@code runDir}'s status.json, whole or not at all. */
  public void write(Path runDir) {
    AtomicFile.write(
        runDir.resolve(FILE), toJson().toPrettyString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The run's status.json; empty when there is none. Missing fields take their "unknown" value (0,
   * NaN, no classes), so a file from an older version reads too.
   *
   * @throws IOException when the file cannot be read or is not a JSON object (a damaged run)
   */
  public static Optional<RunStatus> read(Path runDir) throws IOException {
    Path file = runDir.resolve(FILE);
    Optional<JsonNode> read = JsonFiles.read(file);
    if (read.isEmpty()) {
      return Optional.empty();
    }
    JsonNode o = read.get();
    if (!o.isObject() || !o.path("status").isTextual()) {
      throw new IOException(file + " is not a run status (no \"status\")");
    }
    List<String> classes = new ArrayList<>();
    o.path("classes").forEach(c -> classes.add(c.asText()));
    JsonNode loss = o.path("testLoss");
    return Optional.of(
        new RunStatus(
            o.get("status").asText(),
            o.path("step").asLong(0),
            o.path("epoch").asInt(0),
            o.path("epochs").asInt(0),
            o.path("batchesPerEpoch").asInt(0),
            loss.isNumber() ? loss.asDouble() : Double.NaN,
            classes,
            o.path("error").isTextual() ? o.get("error").asText() : null,
            o.path("updatedAt").asLong(0)));
  }
}
