package dev.latentstream.runformat;

import dev.latentstream.wire.FrameKind;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The names of a run directory's files that readers use: {@code metrics.csv} ({@link
 * MetricsCsv#FILE}), each epoch's frame images and the latest checkpoint. The trainer side writes
 * them ({@code rundir.RunDirectoryWriter}, {@code rundir.Checkpoint}); gateways read them, from
 * disk or relayed from the trainer node. Constants and pure functions only: any thread.
 */
public final class RunLayout {

  /** The latest checkpoint, relative to its run directory. */
  public static final String CHECKPOINT = "checkpoint/latest.pt";

  private static final Map<FrameKind, String> FRAME_PREFIX =
      Map.of(
          FrameKind.RECON,
          "reconst",
          FrameKind.SAMPLES,
          "sampled",
          FrameKind.LATENT,
          "latent",
          FrameKind.MANIFOLD,
          "manifold");

  /** An epoch's frame file: one of the four prefixes, a positive epoch, ".png". */
  private static final Pattern FRAME_FILE =
      Pattern.compile("(reconst|sampled|latent|manifold)-[1-9][0-9]{0,8}\\.png");

  /**
   * The formats a model is exported in ({@code export} package): a PyTorch state_dict, safetensors.
   */
  public static final List<String> MODEL_FORMATS = List.of("pt", "safetensors");

  /** The parts of a model an export holds: all of it, or what decoding needs. */
  public static final List<String> MODEL_PARTS = List.of("all", "decoder");

  /** An exported model: {@code export/<part>-<checkpoint step>.<format>}. */
  private static final Pattern MODEL_FILE =
      Pattern.compile("export/(all|decoder)-[0-9]{1,19}\\.(pt|safetensors)");

  private RunLayout() {}

  /**
   * The model exported from the checkpoint at {@code step}, relative to the run directory; written
   * by the trainer side on request.
   *
   * @throws IllegalArgumentException for a format or part not in {@link #MODEL_FORMATS} or {@link
   *     #MODEL_PARTS}
   */
  public static String modelFile(String part, long step, String format) {
    checkModel(format, part);
    return "export/" + part + "-" + step + "." + format;
  }

  /** Throws an IllegalArgumentException, naming the known values, for an unknown format or part. */
  public static void checkModel(String format, String part) {
    if (!MODEL_FORMATS.contains(format)) {
      throw new IllegalArgumentException(
          "unknown format '" + format + "' (known: " + String.join(", ", MODEL_FORMATS) + ")");
    }
    if (!MODEL_PARTS.contains(part)) {
      throw new IllegalArgumentException(
          "unknown part '" + part + "' (known: " + String.join(", ", MODEL_PARTS) + ")");
    }
  }

  /**
   * The image of {@code kind}'s frame at the end of {@code epoch}, relative to the run directory.
   */
  public static String frameFile(FrameKind kind, int epoch) {
    return FRAME_PREFIX.get(kind) + "-" + epoch + ".png";
  }

  /**
   * Whether {@code name} (relative to a run directory) is a file the trainer node hands to
   * gateways: {@code metrics.csv}, an epoch's frame, the checkpoint or an exported model. Nothing
   * else, so no name can reach outside the run.
   */
  public static boolean servable(String name) {
    return name.equals(MetricsCsv.FILE)
        || name.equals(CHECKPOINT)
        || FRAME_FILE.matcher(name).matches()
        || MODEL_FILE.matcher(name).matches();
  }
}
