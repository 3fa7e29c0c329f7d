package dev.latentstream.bus;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * The trainer's refusal of a rationed request, as an event-bus failure: code {@link #FAILURE_CODE},
 * and a message that carries the trainer's own retry hint ({@code {"message": ..., "retryAfterMs":
 * ...}}), so a gateway, local or across the cluster, passes the client the real figure.
 */
public record Busy(String message, long retryAfterMs) {

  public static final int FAILURE_CODE = 429;

  /** The failure message to send with {@link #FAILURE_CODE}. */
  public String failureMessage() {
    return new JsonObject().put("message", message).put("retryAfterMs", retryAfterMs).encode();
  }

  /**
   * Reads a {@link #FAILURE_CODE} failure back; a message in another form keeps its text and gets
   * {@code fallbackRetryMs}.
   */
  public static Busy of(ReplyException failure, long fallbackRetryMs) {
    String m = String.valueOf(failure.getMessage());
    try {
      JsonObject j = new JsonObject(m);
      if (j.getValue("message") instanceof String text
          && j.getValue("retryAfterMs") instanceof Number n
          && n.longValue() > 0) {
        return new Busy(text, n.longValue());
      }
    } catch (DecodeException notJson) {
      // an older or foreign node: its plain message as it is
    }
    return new Busy(m, fallbackRetryMs);
  }
}
