package dev.latentstream.stream;

/** A client message that cannot be accepted; becomes an {@code error} reply with {@code code}. */
public final class ProtocolException extends RuntimeException {
  private final String code;
  private final String id;

  public ProtocolException(String code, String message, String id) {
    super(message);
    this.code = code;
    this.id = id;
  }

  public String code() {
    return code;
  }

  public String id() {
    return id;
  }
}
