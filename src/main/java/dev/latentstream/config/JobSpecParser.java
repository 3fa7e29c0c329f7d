package dev.latentstream.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentstream.config.JobConfig.Activation;
import dev.latentstream.config.JobConfig.Conv;
import dev.latentstream.config.JobConfig.Discriminator;
import dev.latentstream.config.JobConfig.ModelType;
import dev.latentstream.config.JobConfig.Noise;
import dev.latentstream.config.JobConfig.NoiseKind;
import dev.latentstream.config.JobConfig.OptimizerType;
import dev.latentstream.config.JobConfig.ReconLoss;
import dev.latentstream.config.JobConfig.Reduction;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One job spec's JSON tree to a {@link JobConfig}: every key checked, every default filled in, and
 * each error naming the source and the key.
 */
final class JobSpecParser {
  private JobSpecParser() {}

  /** The keys a spec may hold: {@link JobConfig}'s components, which are its JSON names too. */
  private static final Set<String> KEYS =
      Arrays.stream(JobConfig.class.getRecordComponents())
          .map(RecordComponent::getName)
          .collect(Collectors.toUnmodifiableSet());

  /**
   * The spec in {@code root}; {@code defaultName} and {@code defaultEngine} where it names none.
   * Keys are checked in the order of {@link JobConfig}'s components, but for those others depend
   * on.
   */
  static JobConfig parse(
      JsonNode root, String source, String defaultName, JobConfig.Engine defaultEngine) {
    SpecReader r = reader(root, source);
    ModelType model = model(r);
    double lr = r.doubleIn("lr", 1e-3, JobConfigs.MIN_LR, JobConfigs.MAX_LR);
    int frameEverySteps = r.intIn("frameEverySteps", 100, 0, JobConfigs.MAX_FRAME_EVERY_STEPS);
    return new JobConfig(
        name(r, defaultName),
        r.string("description", ""),
        model,
        dataset(r),
        r.positiveInts("hidden", defaultHidden(model)),
        r.intIn("latent", model == ModelType.conv_vae || model == ModelType.aae ? 2 : 20, 1, 4096),
        r.enumValue("activation", Activation.class, Activation.relu, Function.identity()),
        r.enumValue("loss", ReconLoss.class, ReconLoss.bce, Function.identity()),
        r.enumValue("reduction", Reduction.class, Reduction.sum, Function.identity()),
        r.doubleIn("beta", 1.0, 0.0, JobConfigs.MAX_BETA),
        noise(r, model),
        conv(r, model),
        discriminator(r, model, lr),
        optimizer(r, model),
        lr,
        r.intIn("batchSize", 128, 1, 65536),
        r.intIn("epochs", 10, 1, JobConfigs.MAX_EPOCHS),
        r.longValue("seed", 1L),
        device(r),
        frameEverySteps,
        r.intIn("threads", 0, 0, JobConfigs.MAX_THREADS),
        checkpointEverySeconds(r),
        r.intIn("diagnosticsEverySteps", frameEverySteps, 0, 1_000_000),
        variationalOnly(
            r, model, "freeBits", r.doubleIn("freeBits", 0.0, 0.0, JobConfigs.MAX_FREE_BITS), 0.0),
        (int)
            variationalOnly(
                r, model, "klWarmupSteps", r.intIn("klWarmupSteps", 0, 0, 100_000_000), 0),
        r.intIn("iwaeSamples", 64, 0, 5000),
        r.bool("keepEpochCheckpoints", false),
        engine(r, defaultEngine));
  }

  /** A reader of {@code root}, which must be an object of known keys. */
  private static SpecReader reader(JsonNode root, String source) {
    if (root == null || !root.isObject()) {
      throw new ConfigException(source + ": a job spec must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!KEYS.contains(key)) {
        throw ConfigException.unknownKey(source, key, KEYS);
      }
    }
    return new SpecReader(root, source);
  }

  private static ModelType model(SpecReader r) {
    ModelType model = r.enumValue("model", ModelType.class, null, s -> s.replace('-', '_'));
    if (model == null) {
      throw new ConfigException(
          r.source() + ": \"model\" is required (one of ae, dae, vae, conv-vae, aae)");
    }
    return model;
  }

  private static String name(SpecReader r, String defaultName) {
    String name = r.string("name", defaultName);
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new ConfigException(
          r.source()
              + ": \"name\" must be 1-64 characters of letters, digits, '.', '_' or '-', got \""
              + name
              + "\"");
    }
    return name;
  }

  private static List<Integer> defaultHidden(ModelType model) {
    return switch (model) {
      case vae -> List.of(400);
      case aae -> List.of(512, 256);
      default -> List.of(256, 128);
    };
  }

  /** The dae's corruption; null for every other model, which may not name it. */
  private static Noise noise(SpecReader r, ModelType model) {
    if (!r.node().has("noise") && model != ModelType.dae) {
      return null;
    }
    onlyFor(r, model, ModelType.dae, "noise", "dae");
    SpecReader n = r.object("noise", Set.of("kind", "level"));
    NoiseKind kind = n.enumValue("kind", NoiseKind.class, NoiseKind.gaussian, Function.identity());
    boolean gaussian = kind == NoiseKind.gaussian;
    return new Noise(kind, n.doubleIn("level", gaussian ? 0.5 : 0.3, 0.0, gaussian ? 10.0 : 1.0));
  }

  /** The conv VAE's layout; null for every other model, which may not name it. */
  private static Conv conv(SpecReader r, ModelType model) {
    if (!r.node().has("conv") && model != ModelType.conv_vae) {
      return null;
    }
    onlyFor(r, model, ModelType.conv_vae, "conv", "conv-vae");
    SpecReader c = r.object("conv", Set.of("channels", "dense"));
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
  private static Discriminator discriminator(SpecReader r, ModelType model, double lr) {
    if (!r.node().has("discriminator") && model != ModelType.aae) {
      return null;
    }
    onlyFor(r, model, ModelType.aae, "discriminator", "aae");
    SpecReader d = r.object("discriminator", Set.of("hidden", "lr"));
    return new Discriminator(
        d.positiveInts("hidden", List.of(256, 256)),
        d.doubleIn("lr", lr, JobConfigs.MIN_LR, JobConfigs.MAX_LR));
  }

  private static void onlyFor(
      SpecReader r, ModelType model, ModelType owner, String key, String ownerName) {
    if (model != owner) {
      throw new ConfigException(
          r.source() + ": \"" + key + "\" applies only to model " + ownerName);
    }
  }

  private static String dataset(SpecReader r) {
    String dataset = r.string("dataset", "fashion-mnist");
    if (dataset.isBlank()) {
      throw new ConfigException(r.source() + ": \"dataset\" must not be empty");
    }
    return dataset;
  }

  private static String device(SpecReader r) {
    String device = r.string("device", "auto");
    if (!device.equals("auto") && !device.equals("cpu") && !device.matches("cuda(:\\d{1,4})?")) {
      throw new ConfigException(
          r.source()
              + ": \"device\" must be auto, cpu, cuda or cuda:N (N from 0 to 9999), got \""
              + device
              + "\"");
    }
    return device;
  }

  private static OptimizerType optimizer(SpecReader r, ModelType model) {
    OptimizerType dflt = model == ModelType.conv_vae ? OptimizerType.rmsprop : OptimizerType.adam;
    return r.enumValue("optimizer", OptimizerType.class, dflt, Function.identity());
  }

  private static int checkpointEverySeconds(SpecReader r) {
    return r.intIn(
        "checkpointEverySeconds",
        JobConfigs.DEFAULT_CHECKPOINT_EVERY_SECONDS,
        0,
        JobConfigs.MAX_CHECKPOINT_EVERY_SECONDS);
  }

  private static double variationalOnly(
      SpecReader r, ModelType model, String key, double value, double dflt) {
    if (r.node().has(key) && !model.variational() && value != dflt) {
      throw new ConfigException(
          r.source() + ": \"" + key + "\" applies only to models vae and conv-vae");
    }
    return value;
  }

  private static JobConfig.Engine engine(SpecReader r, JobConfig.Engine dflt) {
    String name = r.string("engine", dflt.wireName());
    try {
      return JobConfig.Engine.of(name);
    } catch (ConfigException e) {
      throw new ConfigException(r.source() + ": " + e.getMessage());
    }
  }
}
