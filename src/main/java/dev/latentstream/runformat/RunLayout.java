package dev.latentstream.runformat;

import dev.latentstream.wire.FrameKind;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The names of a run directory's files that readers use: {@code metrics.csv} ({@link MetricsCsv#FILE}),
 * each epoch's frame images and the latest checkpoint. The trainer side writes them ({@code
 * rundir.RunDirectoryWriter}, {@code rundir.Checkpoint}); gateways read them, from disk or relayed from the
 * trainer node. Constants and pure functions only: any thread.
 */
public final class RunLayout {

  /** The latest checkpoint, relative to its run directory. */
  public static final String CHECKPOINT = "checkpoint/latest.pt";

  private static final Map<FrameKind, String> FRAME_PREFIX = Map.of(
      FrameKind.RECON, "reconst", FrameKind.SAMPLES, "sampled", FrameKind.LATENT, "latent",
      FrameKind.MANIFOLD, "manifold");

  /** An epoch's frame file: one of the four prefixes, a positive epoch, ".png". */
  private static final Pattern FRAME_FILE =
      Pattern.compile("(reconst|sampled|latent|manifold)-[1-9][0-9]{0,8}\\.png");

  private RunLayout() {}

  /** The image of {@code kind}'s frame at the end of {@code epoch}, relative to the run directory. */
  public static String frameFile(FrameKind kind, int epoch) {
    return FRAME_PREFIX.get(kind) + "-" + epoch + ".png";
  }

  /**
   * Whether {@code name} (relative to a run directory) is a file the trainer node hands to gateways: {@code
   * metrics.csv}, an epoch's frame or the checkpoint. Nothing else, so no name can reach outside the run.
   */
  public static boolean servable(String name) {
    return name.equals(MetricsCsv.FILE) || name.equals(CHECKPOINT) || FRAME_FILE.matcher(name).matches();
  }
}
