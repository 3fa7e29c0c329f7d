package dev.latentstream.stream;

import dev.latentstream.stream.Protocol.Codes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One client's messages reassembled from its WebSocket frames. A message over 4 × {@code
 * maxMessageBytes} closes the socket (1009) without being buffered further; one up to that is read
 * and handed on (the parser answers {@code too_large} when it is over the limit); invalid UTF-8 in
 * a text message closes it (1007), and a binary message is refused.
 *
 * <p>Threads: one per session, on the hub's event loop.
 */
final class InboundMessages {

  /** What a whole text message goes to: its text and its size in bytes. */
  @FunctionalInterface
  interface Receiver {
    void message(String text, int bytes);
  }

  private final ClientSession s;
  private final StreamHub hub;
  private final int maxMessageBytes;
  private final Receiver receiver;

  /** Strict: invalid UTF-8 closes the socket (1007) instead of becoming U+FFFD. */
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  private Buffer message;
  private boolean text;

  InboundMessages(ClientSession s, StreamHub hub, int maxMessageBytes, Receiver receiver) {
    this.s = s;
    this.hub = hub;
    this.maxMessageBytes = maxMessageBytes;
    this.receiver = receiver;
  }

  void frame(WebSocketFrame f) {
    if (!s.open()) {
      return;
    }
    if (f.isText() || f.isBinary()) {
      message = Buffer.buffer();
      text = f.isText();
    } else if (!f.isContinuation() || message == null) {
      return; // ping, pong and close are Vert.x's
    }
    message.appendBuffer(f.binaryData());
    if (message.length() > 4L * maxMessageBytes) {
      message = null;
      hub.close(s, (short) 1009, "message too big");
      return;
    }
    if (!f.isFinal()) {
      return;
    }
    Buffer complete = message;
    message = null;
    if (!text) {
      s.send(
          new ServerMessage.Error(
              null, Codes.BAD_FIELD, "binary messages are not accepted; send JSON text"));
      return;
    }
    String decoded;
    try {
      decoded = utf8.reset().decode(ByteBuffer.wrap(complete.getBytes())).toString();
    } catch (CharacterCodingException e) {
      hub.close(s, (short) 1007, "invalid UTF-8");
      return;
    }
    receiver.message(decoded, complete.length());
  }
}
