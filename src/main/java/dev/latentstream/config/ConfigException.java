package dev.latentstream.config;

import java.util.Collection;
import java.util.stream.Collectors;

/** A configuration value is missing or wrong. The message names the source and the key. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /** {@code key} in {@code source} is none of {@code known}, which the message lists in order. */
  public static ConfigException unknownKey(String source, String key, Collection<String> known) {
    return new ConfigException(
        source
            + ": unknown key \""
            + key
            + "\" (known keys: "
            + known.stream().sorted().collect(Collectors.joining(", "))
            + ")");
  }
}
