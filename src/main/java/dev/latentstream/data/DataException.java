package dev.latentstream.data;

/**
 * A dataset file is missing, corrupt or inconsistent. The message names the file and the problem.
 */
public final class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }

  public DataException(String message, Throwable cause) {
    super(message, cause);
  }
}
