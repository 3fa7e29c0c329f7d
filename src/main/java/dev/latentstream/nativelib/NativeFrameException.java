package dev.latentstream.nativelib;

/** A kernel refused its arguments; the message names the call, its arguments and the status. */
public final class NativeFrameException extends RuntimeException {
  private final int status;

  public NativeFrameException(String call, int status, String reason, Object... args) {
    super(
        call + java.util.Arrays.toString(args) + " failed: " + reason + " (status " + status + ")");
    this.status = status;
  }

  public int status() {
    return status;
  }
}
