package dev.latentstream.nativelib;

/**
 * Picks the kernels for this process: native when liblsframes loads, else Java, saying why once.
 */
public final class Kernels {

  private static final FrameKernels BEST = choose();

  private Kernels() {}

  public static FrameKernels best() {
    return BEST;
  }

  /** The training kernels of the same implementation as {@link #best()}. */
  public static TrainingKernels training() {
    return (TrainingKernels) BEST;
  }

  /** Why the native kernels are not in use, or null when they are. */
  public static String fallbackReason() {
    return reason;
  }

  private static String reason;

  private static FrameKernels choose() {
    if (!Kernels.class.getModule().isNativeAccessEnabled()) {
      reason =
          "native access is not enabled: run java with --enable-native-access=ALL-UNNAMED"
              + " (the latentstream launcher does)";
    } else {
      try {
        return new NativeFrameKernels();
      } catch (Throwable t) {
        Throwable cause =
            t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
        reason = "liblsframes could not be loaded: " + cause.getMessage();
      }
    }
    System.getLogger(Kernels.class.getName())
        .log(
            System.Logger.Level.WARNING, "frame kernels: using the Java implementation; " + reason);
    return new JavaFrameKernels();
  }
}
