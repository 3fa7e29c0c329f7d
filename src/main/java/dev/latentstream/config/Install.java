package dev.latentstream.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the distribution is installed, so that {@code config/} is found from any working directory.
 * The distribution's {@code bin/latentstream} sets the system property {@value #HOME_PROPERTY} to
 * the install directory; a service then runs in its state directory (runs and data there) and still
 * reads the install's {@code config/server.json} and presets. A relative path that exists from the
 * working directory wins, so a checkout or an operator's own {@code config/} overrides the
 * install's.
 */
public final class Install {

  public static final String HOME_PROPERTY = "latentstream.home";

  private Install() {}

  /**
   * {@code path} itself when it is absolute or exists; else the install's copy when there is an
   * install.
   */
  public static Path resolve(Path path) {
    String home = System.getProperty(HOME_PROPERTY);
    if (path.isAbsolute() || Files.exists(path) || home == null || home.isBlank()) {
      return path;
    }
    Path installed = Path.of(home).resolve(path);
    return Files.exists(installed) ? installed : path;
  }
}
