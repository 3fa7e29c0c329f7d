package dev.latentstream.wire;

import java.util.Arrays;

/**
 * The image streams a run produces. {@link #wireName()} is the name used in files and the protocol.
 */
public enum FrameKind {
  /** A fixed test batch: each original beside its reconstruction. */
  RECON("recon", 1),
  /** Decodes of fixed prior noise. */
  SAMPLES("samples", 2),
  /** Test-set latent means coloured by class. */
  LATENT("latent", 3),
  /** A grid decoded over normal quantiles of the (principal) 2-D latent plane. */
  MANIFOLD("manifold", 4);

  private final String wireName;
  private final int code;

  FrameKind(String wireName, int code) {
    this.wireName = wireName;
    this.code = code;
  }

  public String wireName() {
    return wireName;
  }

  /** The one-byte code used in binary WebSocket frame headers. */
  public int code() {
    return code;
  }

  public static FrameKind fromWireName(String name) {
    return Arrays.stream(values())
        .filter(k -> k.wireName.equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown frame kind '" + name + "'"));
  }

  public static FrameKind fromCode(int code) {
    return Arrays.stream(values())
        .filter(k -> k.code == code)
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown frame kind code " + code));
  }
}
