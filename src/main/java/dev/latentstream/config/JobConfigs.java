package dev.latentstream.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.config.JobConfig.Activation;
import dev.latentstream.config.JobConfig.Conv;
import dev.latentstream.config.JobConfig.Discriminator;
import dev.latentstream.config.JobConfig.ModelType;
import dev.latentstream.config.JobConfig.Noise;
import dev.latentstream.config.JobConfig.NoiseKind;
import dev.latentstream.config.JobConfig.OptimizerType;
import dev.latentstream.config.JobConfig.ReconLoss;
import dev.latentstream.config.JobConfig.Reduction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads job specs from JSON and validates them in one place. Every error names the source and the
 * key, for example {@code config/jobs/x.json: "lr" must be > 0, got -1.0}. Unknown keys are errors,
 * so a misspelt key never silently falls back to a default.
 */
public final class JobConfigs {

  public static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private static final Set<String> KEYS =
      Set.of(
          "name",
          "description",
          "model",
          "dataset",
          "hidden",
          "latent",
          "activation",
          "loss",
          "reduction",
          "beta",
          "noise",
          "conv",
          "discriminator",
          "optimizer",
          "lr",
          "batchSize",
          "epochs",
          "seed",
          "device",
          "frameEverySteps",
          "threads",
          "checkpointEverySeconds",
          "diagnosticsEverySteps",
          "freeBits",
          "klWarmupSteps",
          "iwaeSamples",
          "keepEpochCheckpoints",
          "engine");

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
  public static final double MAX_FREE_BITS = 100.0;
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

  /** Where the JSON went wrong, as an editor counts: line and column from 1. */
  /**
   * The JSON tree of the job file {@code file} (a spec or a sweep); a missing, unreadable or
   * invalid file is a {@link ConfigException} naming it, and the line and column where it can.
   */
  static JsonNode readJobFile(Path file) {
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
    if (root == null || !root.isObject()) {
      throw new ConfigException(source + ": a job spec must be a JSON object");
    }
    checkKeys(root, source);
    Reader r = new Reader(root, source);
    ModelType model = r.enumValue("model", ModelType.class, null, s -> s.replace('-', '_'));
    if (model == null) {
      throw new ConfigException(
          source + ": \"model\" is required (one of ae, dae, vae, conv-vae, aae)");
    }
    String name = name(r, source, defaultName);
    List<Integer> hidden =
        r.positiveInts(
            "hidden",
            switch (model) {
              case vae -> List.of(400);
              case aae -> List.of(512, 256);
              default -> List.of(256, 128);
            });
    int latent =
        r.intIn("latent", model == ModelType.conv_vae || model == ModelType.aae ? 2 : 20, 1, 4096);
    Noise noise = noise(r, root, model);
    Conv conv = conv(r, root, model);
    double lr = r.doubleIn("lr", 1e-3, MIN_LR, MAX_LR);
    Discriminator disc = discriminator(r, root, model, lr);
    String device = device(r, source);
    String dataset = r.string("dataset", "fashion-mnist");
    if (dataset.isBlank()) {
      throw new ConfigException(source + ": \"dataset\" must not be empty");
    }
    int frameEverySteps = r.intIn("frameEverySteps", 100, 0, MAX_FRAME_EVERY_STEPS);
    return new JobConfig(
        name,
        r.string("description", ""),
        model,
        dataset,
        hidden,
        latent,
        r.enumValue("activation", Activation.class, Activation.relu, Function.identity()),
        r.enumValue("loss", ReconLoss.class, ReconLoss.bce, Function.identity()),
        r.enumValue("reduction", Reduction.class, Reduction.sum, Function.identity()),
        r.doubleIn("beta", 1.0, 0.0, MAX_BETA),
        noise,
        conv,
        disc,
        r.enumValue(
            "optimizer",
            OptimizerType.class,
            model == ModelType.conv_vae ? OptimizerType.rmsprop : OptimizerType.adam,
            Function.identity()),
        lr,
        r.intIn("batchSize", 128, 1, 65536),
        r.intIn("epochs", 10, 1, MAX_EPOCHS),
        r.longValue("seed", 1L),
        device,
        frameEverySteps,
        r.intIn("threads", 0, 0, MAX_THREADS),
        r.intIn(
            "checkpointEverySeconds",
            DEFAULT_CHECKPOINT_EVERY_SECONDS,
            0,
            MAX_CHECKPOINT_EVERY_SECONDS),
        r.intIn("diagnosticsEverySteps", frameEverySteps, 0, 1_000_000),
        variationalOnly(r, root, model, "freeBits", r.doubleIn("freeBits", 0.0, 0.0, 1000.0), 0.0),
        (int)
            variationalOnly(
                r, root, model, "klWarmupSteps", r.intIn("klWarmupSteps", 0, 0, 100_000_000), 0),
        r.intIn("iwaeSamples", 64, 0, 5000),
        r.bool("keepEpochCheckpoints", false),
        engine(r, defaultEngine));
  }

  private static JobConfig.Engine engine(Reader r, JobConfig.Engine dflt) {
    String name = r.string("engine", dflt.wireName());
    try {
      return JobConfig.Engine.of(name);
    } catch (ConfigException e) {
      throw new ConfigException(r.source() + ": " + e.getMessage());
    }
  }

  private static void checkKeys(JsonNode root, String source) {
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!KEYS.contains(key)) {
        throw ConfigException.unknownKey(source, key, KEYS);
      }
    }
  }

  private static String name(Reader r, String source, String defaultName) {
    String name = r.string("name", defaultName);
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new ConfigException(
          source
              + ": \"name\" must be 1-64 characters of letters, digits, '.', '_' or '-', got \""
              + name
              + "\"");
    }
    return name;
  }

  /** The dae's corruption; null for every other model, which may not name it. */
  private static Noise noise(Reader r, JsonNode root, ModelType model) {
    if (!root.has("noise") && model != ModelType.dae) {
      return null;
    }
    onlyFor(r, model, ModelType.dae, "noise", "dae");
    Reader n = r.object("noise");
    NoiseKind kind = n.enumValue("kind", NoiseKind.class, NoiseKind.gaussian, Function.identity());
    double level =
        n.doubleIn(
            "level",
            kind == NoiseKind.gaussian ? 0.5 : 0.3,
            0.0,
            kind == NoiseKind.gaussian ? 10.0 : 1.0);
    return new Noise(kind, level);
  }

  /** The conv VAE's layout; null for every other model, which may not name it. */
  private static Conv conv(Reader r, JsonNode root, ModelType model) {
    if (!root.has("conv") && model != ModelType.conv_vae) {
      return null;
    }
    onlyFor(r, model, ModelType.conv_vae, "conv", "conv-vae");
    Reader c = r.object("conv");
    List<Integer> channels = c.positiveInts("channels", List.of(32, 64, 64, 64));
    if (channels.size() < 2) {
      throw new ConfigException(
          r.source() + ": \"conv.channels\" needs at least 2 layers (the second has stride 2)");
    }
    return new Conv(channels, c.intIn("dense", 32, 1, 65536));
  }

  /**
   * The aae's discriminator (its learning rate defaults to the model's); null for every other
   * model.
   */
  private static Discriminator discriminator(Reader r, JsonNode root, ModelType model, double lr) {
    if (!root.has("discriminator") && model != ModelType.aae) {
      return null;
    }
    onlyFor(r, model, ModelType.aae, "discriminator", "aae");
    Reader d = r.object("discriminator");
    return new Discriminator(
        d.positiveInts("hidden", List.of(256, 256)), d.doubleIn("lr", lr, MIN_LR, MAX_LR));
  }

  private static void onlyFor(
      Reader r, ModelType model, ModelType owner, String key, String ownerName) {
    if (model != owner) {
      throw new ConfigException(
          r.source() + ": \"" + key + "\" applies only to model " + ownerName);
    }
  }

  private static String device(Reader r, String source) {
    String device = r.string("device", "auto");
    if (!device.equals("auto") && !device.equals("cpu") && !device.matches("cuda(:\\d{1,4})?")) {
      throw new ConfigException(
          source
              + ": \"device\" must be auto, cpu, cuda or cuda:N (N from 0 to 9999), got \""
              + device
              + "\"");
    }
    return device;
  }

  private static double variationalOnly(
      Reader r, JsonNode root, ModelType model, String key, double value, double dflt) {
    if (root.has(key) && !model.variational() && value != dflt) {
      throw new ConfigException(
          r.source() + ": \"" + key + "\" applies only to models vae and conv-vae");
    }
    return value;
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

  /** Typed access to one JSON object, with errors that carry the dotted key path. */
  private record Reader(JsonNode node, String source, String prefix) {
    Reader(JsonNode node, String source) {
      this(node, source, "");
    }

    private JsonNode get(String key) {
      JsonNode v = node == null ? null : node.get(key);
      return v == null || v.isNull() ? null : v;
    }

    private ConfigException bad(String key, String expected, JsonNode got) {
      return new ConfigException(
          source + ": \"" + prefix + key + "\" must be " + expected + ", got " + got);
    }

    Reader object(String key) {
      JsonNode v = get(key);
      if (v != null && !v.isObject()) {
        throw bad(key, "an object", v);
      }
      if (v != null) {
        Set<String> allowed =
            switch (key) {
              case "noise" -> Set.of("kind", "level");
              case "conv" -> Set.of("channels", "dense");
              case "discriminator" -> Set.of("hidden", "lr");
              default -> Set.of();
            };
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!allowed.contains(k)) {
            throw new ConfigException(source + ": unknown key \"" + prefix + key + "." + k + "\"");
          }
        }
      }
      return new Reader(v, source, prefix + key + ".");
    }

    boolean bool(String key, boolean dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw bad(key, "true or false", v);
      }
      return v.asBoolean();
    }

    String string(String key, String dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isTextual()) {
        throw bad(key, "a string", v);
      }
      return v.asText();
    }

    <E extends Enum<E>> E enumValue(
        String key, Class<E> type, E dflt, Function<String, String> toConstant) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      String allowed =
          Arrays.stream(type.getEnumConstants())
              .map(e -> e.name().replace('_', '-'))
              .collect(Collectors.joining(", "));
      if (!v.isTextual()) {
        throw bad(key, "one of " + allowed, v);
      }
      try {
        return Enum.valueOf(type, toConstant.apply(v.asText().toLowerCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw bad(key, "one of " + allowed, v);
      }
    }

    int intIn(String key, int dflt, int min, int max) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
        throw bad(key, "a whole number from " + min + " to " + max, v);
      }
      return v.asInt();
    }

    long longValue(String key, long dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        throw bad(key, "a whole number", v);
      }
      return v.asLong();
    }

    double doubleIn(String key, double dflt, double min, double max) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isNumber()
          || !Double.isFinite(v.asDouble())
          || v.asDouble() < min
          || v.asDouble() > max) {
        throw bad(key, "a number from " + min + " to " + max, v);
      }
      return v.asDouble();
    }

    List<Integer> positiveInts(String key, List<Integer> dflt) {
      JsonNode v = get(key);
      if (v == null) {
        return dflt;
      }
      if (!v.isArray() || v.isEmpty() || v.size() > MAX_LAYERS) {
        throw bad(key, "an array of 1 to " + MAX_LAYERS + " whole numbers from 1 to 65536", v);
      }
      List<Integer> out = new ArrayList<>();
      for (JsonNode e : v) {
        if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 1 || e.asInt() > 65536) {
          throw bad(key, "a non-empty array of whole numbers from 1 to 65536", v);
        }
        out.add(e.asInt());
      }
      return List.copyOf(out);
    }
  }
}
