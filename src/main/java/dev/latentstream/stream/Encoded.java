package dev.latentstream.stream;

import io.vertx.core.buffer.Buffer;

/**
 * A server message encoded once, as UTF-8, for any number of sessions: fan-out and the history
 * cache hand the same bytes to every client. {@code text} is kept for small messages only, which go
 * out as one frame; big ones are sent as fragments sliced from {@code utf8}, so no client
 * re-encodes them.
 */
record Encoded(String text, Buffer utf8) {

  /**
   * Messages up to this size are written as one text frame; bigger ones are fragmented from the
   * bytes.
   */
  static final int SMALL_BYTES = 16 * 1024;

  static Encoded of(ServerMessage m) {
    return of(m.toJson().encode());
  }

  static Encoded of(String json) {
    Buffer utf8 = Buffer.buffer(json);
    return new Encoded(utf8.length() <= SMALL_BYTES ? json : null, utf8);
  }

  int bytes() {
    return utf8.length();
  }
}
