package dev.latentstream.testing;

import dev.latentstream.model.Libtorch;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Loads libtorch through {@link Libtorch} before any test runs, so tests that call libtorch
 * directly never trigger the crash-prone one-by-one extraction into an empty JavaCPP cache.
 */
public final class LoadLibtorchFirst implements LauncherSessionListener {
  @Override
  public void launcherSessionOpened(LauncherSession session) {
    Libtorch.load();
  }
}
