package dev.latentstream.cli;

/** Something the user can fix; the CLI prints the message alone, without a stack trace. */
public class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
