package dev.latentstream.export;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * Writes a model's weights in one of the {@link Format}s, to bytes or to a file that is never left
 * half-written.
 */
public final class ModelExport {

  private ModelExport() {}

  /** The file formats, by the name users give ({@code --format}, the REST path's extension). */
  public enum Format {
    /** A PyTorch {@code state_dict} ({@link TorchStateDict}). */
    pt("application/octet-stream"),
    /** safetensors ({@link Safetensors}). */
    safetensors("application/octet-stream");

    private final String contentType;

    Format(String contentType) {
      this.contentType = contentType;
    }

    public String contentType() {
      return contentType;
    }

    public String extension() {
      return "." + name();
    }

    /** The format called {@code name}, or an exception naming the known ones. */
    public static Format named(String name) {
      for (Format f : values()) {
        if (f.name().equals(name)) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown format '"
              + name
              + "' (known: "
              + String.join(", ", Arrays.stream(values()).map(Enum::name).toList())
              + ")");
    }
  }

  public static byte[] bytes(ModelWeights weights, Format format) {
    return switch (format) {
      case pt -> TorchStateDict.write(weights);
      case safetensors -> Safetensors.write(weights);
    };
  }

  /**
   * Writes {@code weights} to {@code out}: into a temporary file beside it, forced to the disk,
   * then renamed over {@code out}, so a reader sees the old file or the whole new one and a failure
   * leaves no part behind.
   *
   * @return the bytes written
   */
  public static long write(ModelWeights weights, Format format, Path out) {
    byte[] data = bytes(weights, format);
    Path target = out.toAbsolutePath();
    Path tmp = null;
    try {
      Files.createDirectories(target.getParent());
      tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(data));
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return data.length;
    } catch (IOException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the write already failed; that error is the one to report
        }
      }
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }

  /**
   * The part called {@code name} ({@code all}, {@code decoder}), or an exception naming the known
   * ones.
   */
  public static ModelWeights.Part part(String name) {
    for (ModelWeights.Part p : ModelWeights.Part.values()) {
      if (p.name().equals(name.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown part '" + name + "' (known: all, decoder)");
  }
}
