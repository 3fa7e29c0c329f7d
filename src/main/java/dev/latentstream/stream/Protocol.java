package dev.latentstream.stream;

import dev.latentstream.wire.FrameHeader;
import dev.latentstream.wire.FrameKind;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * Client → server messages of the WebSocket protocol, parsed and checked before anything acts on
 * them. Unknown types and wrongly typed fields fail loudly with an error code (see {@link Codes}).
 */
public final class Protocol {

  public static final int VERSION = FrameHeader.VERSION;

  private Protocol() {}

  /** Error codes, as sent in {@code error} messages. */
  public static final class Codes {
    public static final String BAD_JSON = "bad_json";
    public static final String UNKNOWN_TYPE = "unknown_type";
    public static final String BAD_FIELD = "bad_field";
    public static final String UNKNOWN_JOB = "unknown_job";
    public static final String TOO_LARGE = "too_large";
    public static final String UNAUTHORIZED = "unauthorized";
    public static final String BAD_REQUEST = "bad_request";
    public static final String CONFLICT = "conflict";
    public static final String UNAVAILABLE = "unavailable";

    /**
     * A rationed request (interactive model requests in flight) refused at once; the error carries
     * {@code retryAfterMs}.
     */
    public static final String BUSY = "busy";

    /**
     * The client has more unsent bytes than {@code writeQueueBytes}; a client that keeps asking is
     * closed.
     */
    public static final String TOO_BUSY = "too_busy";

    public static final String VERSION = "unsupported_version";
    public static final String INTERNAL = "internal";

    private Codes() {}
  }

  /**
   * The streams a client can subscribe to. The image streams are the frame kinds and take their
   * names from {@link FrameKind}; the others are named here.
   */
  public enum Stream {
    loss,
    recon(FrameKind.RECON),
    samples(FrameKind.SAMPLES),
    latent(FrameKind.LATENT),
    manifold(FrameKind.MANIFOLD),
    status,
    diagnostics;

    private final FrameKind kind;

    Stream() {
      this(null);
    }

    Stream(FrameKind kind) {
      this.kind = kind;
    }

    /** The stream's name in {@code subscribe} and {@code subscribed}. */
    public String wireName() {
      return kind == null ? name() : kind.wireName();
    }

    /** The image stream that carries {@code kind}'s frames. */
    public static Stream of(FrameKind kind) {
      for (Stream s : values()) {
        if (s.kind == kind) {
          return s;
        }
      }
      throw new IllegalArgumentException("no stream carries " + kind + " frames");
    }

    /** The stream named {@code name} on the wire, or null. */
    static Stream fromWireName(String name) {
      for (Stream s : values()) {
        if (s.wireName().equals(name)) {
          return s;
        }
      }
      return null;
    }
  }

  public sealed interface ClientMessage {
    String id();
  }

  public record Hello(String id, int version, String token) implements ClientMessage {}

  /**
   * {@code maxFps}: the highest image frame rate per stream the client wants, or null for the
   * server's. {@code latentPoints}: the latent scatter as point data (binary format 2, the default)
   * rather than a PNG.
   */
  public record Subscribe(
      String id, Object job, Set<Stream> streams, Double maxFps, boolean latentPoints)
      implements ClientMessage {}

  public record Unsubscribe(String id, Object job) implements ClientMessage {}

  /** Starts a job from a preset name or a spec object. */
  public record Start(String id, String preset, JsonObject spec, Integer epochs, JsonObject sweep)
      implements ClientMessage {}

  /** pause, resume, stop or delete a job. */
  public record Control(String id, String action, Object job) implements ClientMessage {}

  public record SetSetting(String id, Object job, String key, double value)
      implements ClientMessage {}

  /**
   * decode, encode, interpolate or attribute against the live model; the trainer validates the
   * payload.
   */
  public record ModelRequest(String id, String op, Object job, JsonObject body)
      implements ClientMessage {}

  public record Ping(String id) implements ClientMessage {}

  /** The interactive requests against a job's model. */
  public static final List<String> MODEL_REQUESTS =
      List.of("decode", "encode", "interpolate", "attribute");

  static final List<String> TYPES =
      List.of(
          "hello",
          "subscribe",
          "unsubscribe",
          "start",
          "pause",
          "resume",
          "stop",
          "delete",
          "set",
          "decode",
          "encode",
          "interpolate",
          "attribute",
          "ping");

  /** Parses {@code text}; the limit counts its UTF-8 bytes, as they came over the wire. */
  public static ClientMessage parse(String text, int maxBytes) {
    return parse(text, utf8Length(text), maxBytes);
  }

  /**
   * Parses {@code text}, which was {@code bytes} long in UTF-8 (see {@link ClientMessageParser}).
   */
  static ClientMessage parse(String text, long bytes, int maxBytes) {
    return ClientMessageParser.parse(text, bytes, maxBytes);
  }

  /** Checks a message already decoded from JSON (see {@link ClientMessageParser}). */
  public static ClientMessage parse(JsonObject m) {
    return ClientMessageParser.parse(m);
  }

  /** The UTF-8 length of {@code s} (a lone surrogate counts as the 3 bytes of its replacement). */
  static long utf8Length(CharSequence s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
