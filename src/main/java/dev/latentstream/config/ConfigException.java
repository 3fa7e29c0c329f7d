package dev.latentstream.config;

/** A configuration value is missing or wrong. The message names the source and the key. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
