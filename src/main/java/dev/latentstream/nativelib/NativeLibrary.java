package dev.latentstream.nativelib;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds liblsframes: the Maven build puts it on the classpath under {@code native/<os>-<arch>/};
 * inside a jar it is extracted to a temporary file first. The library stays loaded for the life of
 * the JVM (global arena).
 */
final class NativeLibrary {

  static final String RESOURCE = "/native/linux-x86_64/liblsframes.so";

  private NativeLibrary() {}

  /**
   * The library, extracted and loaded on first use only: every caller ({@link Gemm}, {@link
   * NativeFrameKernels}) shares the one copy. Where it cannot load, each call throws the same
   * reason.
   */
  static SymbolLookup lookup() {
    if (Loaded.FAILURE != null) {
      throw Loaded.FAILURE;
    }
    return Loaded.LIBRARY;
  }

  /** Holder: the JVM runs its initialiser once, on the first {@link #lookup}. */
  private static final class Loaded {
    static final SymbolLookup LIBRARY;
    static final RuntimeException FAILURE;

    static {
      SymbolLookup lib = null;
      RuntimeException failure = null;
      try {
        lib = load();
      } catch (RuntimeException e) {
        failure = e;
      }
      LIBRARY = lib;
      FAILURE = failure;
    }
  }

  private static SymbolLookup load() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
        || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
      throw new UnsupportedOperationException(
          "liblsframes is built for linux-x86_64 only, not "
              + System.getProperty("os.name")
              + "-"
              + System.getProperty("os.arch"));
    }
    var url = NativeLibrary.class.getResource(RESOURCE);
    if (url == null) {
      throw new UnsupportedOperationException(
          RESOURCE + " is not on the classpath (build with ./mvnw package)");
    }
    Path file;
    try {
      if ("file".equals(url.getProtocol())) {
        file = Path.of(url.toURI());
      } else {
        file = Files.createTempFile("liblsframes", ".so");
        file.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
          Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + RESOURCE, e);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return SymbolLookup.libraryLookup(file, Arena.global());
  }
}
