package dev.latentstream.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig.ModelType;
import dev.latentstream.config.JobConfig.NoiseKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads job specs from JSON and validates them in one place. Every error names the source and the
 * key, for example {@code config/jobs/x.json: "lr" must be > 0, got -1.0}. Unknown keys are errors,
 * so a misspelt key never silently falls back to a default. {@link JobSpecParser} holds the rules
 * of a spec's keys, {@link SpecReader} the typed reads; live changes are checked here.
 */
public final class JobConfigs {

  public static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Seconds of training between mid-epoch checkpoints: at most this much is lost when a node dies
   * (0: epoch ends only). A checkpoint is one write of the weights and optimiser state, small next
   * to a minute of training.
   */
  public static final int DEFAULT_CHECKPOINT_EVERY_SECONDS = 60;

  public static final int MAX_CHECKPOINT_EVERY_SECONDS = 86_400;

  /**
   * Bounds shared by job files, REST and WebSocket specs, {@code --epochs} overrides and live
   * settings.
   */
  public static final int MAX_EPOCHS = 100_000;

  public static final double MIN_LR = 1e-12;
  public static final double MAX_LR = 10.0;
  public static final int MAX_THREADS = 256;
  public static final int MAX_LAYERS = 64;
  public static final int MAX_FRAME_EVERY_STEPS = 1_000_000;
  public static final double MAX_BETA = 1e6;
  public static final double MAX_FREE_BITS = 1000.0;
  public static final int MAX_KL_WARMUP_STEPS = 100_000_000;

  /** The settings a client may change while a job trains, see {@link #checkLiveSetting}. */
  public static final List<String> LIVE_KEYS =
      List.of("lr", "beta", "noise", "frameEverySteps", "freeBits", "klWarmupSteps");

  private JobConfigs() {}

  /**
   * {@code epochs} from an override ({@code --epochs}, REST, WebSocket) by the same rule as a
   * spec's.
   */
  static void checkEpochs(long epochs) {
    if (epochs < 1 || epochs > MAX_EPOCHS) {
      throw new ConfigException(
          "\"epochs\" must be a whole number from 1 to " + MAX_EPOCHS + ", got " + epochs);
    }
  }

  /**
   * Checks a live change of {@code key} to {@code value} for a running {@code job}: the same bounds
   * as the spec (the {@code lr} floor is {@value #MIN_LR}), whole numbers where the setting counts
   * steps, and only settings that apply to the job's model. The message names the key.
   *
   * @throws ConfigException when the change must be refused
   */
  public static void checkLiveSetting(JobConfig job, String key, double value) {
    if (key == null || !LIVE_KEYS.contains(key)) {
      throw new ConfigException(
          "unknown setting \"" + key + "\" (live settings: " + String.join(", ", LIVE_KEYS) + ")");
    }
    if (!Double.isFinite(value)) {
      throw new ConfigException("\"" + key + "\" must be a finite number, got " + value);
    }
    switch (key) {
      case "lr" -> liveRange(key, value, MIN_LR, MAX_LR, false);
      case "beta" -> {
        variationalOnly(job, key);
        liveRange(key, value, 0, MAX_BETA, false);
      }
      case "freeBits" -> {
        variationalOnly(job, key);
        liveRange(key, value, 0, MAX_FREE_BITS, false);
      }
      case "klWarmupSteps" -> {
        variationalOnly(job, key);
        liveRange(key, value, 0, MAX_KL_WARMUP_STEPS, true);
      }
      case "noise" -> {
        if (job.model() != ModelType.dae) {
          throw new ConfigException("\"noise\" applies to dae, not " + job.model().wireName());
        }
        liveRange(key, value, 0, job.noise().kind() == NoiseKind.mask ? 1 : 10, false);
      }
      case "frameEverySteps" -> liveRange(key, value, 0, MAX_FRAME_EVERY_STEPS, true);
      default -> throw new IllegalStateException("a live key without a rule: " + key);
    }
  }

  private static void variationalOnly(JobConfig job, String key) {
    if (!job.model().variational()) {
      throw new ConfigException(
          "\"" + key + "\" applies to vae and conv-vae, not " + job.model().wireName());
    }
  }

  private static void liveRange(String key, double value, double min, double max, boolean whole) {
    if (value < min || value > max || (whole && value != Math.rint(value))) {
      throw new ConfigException(
          "\""
              + key
              + "\" must be "
              + (whole ? "a whole number" : "a number")
              + " from "
              + number(min)
              + " to "
              + number(max)
              + ", got "
              + number(value));
    }
  }

  /** 1e-12 rather than 1.0E-12, 100000 rather than 100000.0. */
  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** Loads and validates a job file; the default name is the file name without {@code .json}. */
  public static JobConfig load(Path given) {
    return load(given, JobConfig.Engine.AUTO);
  }

  /**
   * As {@link #load(Path)}, with {@code defaultEngine} for a file that names no {@code engine} (a
   * server's default).
   */
  public static JobConfig load(Path given, JobConfig.Engine defaultEngine) {
    Path file = Install.resolve(given);
    String defaultName = file.getFileName().toString().replaceFirst("\\.json$", "");
    JsonNode root = readJobFile(file);
    // A finished run's job.json also records its result (for example the IWAE bound); it is not
    // part of the spec.
    if (root instanceof ObjectNode o && o.path("result").isObject()) {
      o.remove("result");
    }
    return fromJson(root, file.toString(), defaultName, defaultEngine);
  }

  public static JobConfig parse(String json, String source, String defaultName) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw notJson(source, e);
    }
    return fromJson(root, source, defaultName);
  }

  /**
   * The JSON tree of the job file {@code file} (a spec or a sweep); a missing, unreadable or
   * invalid file is a {@link ConfigException} naming it, and the line and column where it can.
   */
  public static JsonNode readJobFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": job file not found");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read job file: " + e.getMessage(), e);
    }
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw notJson(file.toString(), e);
    }
  }

  /** Where the JSON went wrong, as an editor counts: line and column from 1. */
  private static ConfigException notJson(String source, JsonProcessingException e) {
    var at = e.getLocation();
    String where =
        at == null || at.getLineNr() < 1
            ? ""
            : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    return new ConfigException(source + ": not valid JSON" + where + ": " + e.getOriginalMessage());
  }

  /** Validates a spec that arrived as a JSON tree (a file, a REST body or a WebSocket message). */
  public static JobConfig fromJson(JsonNode root, String source, String defaultName) {
    return fromJson(root, source, defaultName, JobConfig.Engine.AUTO);
  }

  /**
   * As {@link #fromJson(JsonNode, String, String)}, with {@code defaultEngine} where the spec names
   * none.
   */
  public static JobConfig fromJson(
      JsonNode root, String source, String defaultName, JobConfig.Engine defaultEngine) {
    return JobSpecParser.parse(root, source, defaultName, defaultEngine);
  }

  public static String toJson(JobConfig job) {
    try {
      return JSON.writeValueAsString(job);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ObjectNode toTree(JobConfig job) {
    return JSON.valueToTree(job);
  }
}
