package dev.latentstream.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Consumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * One verified download: streamed to a temporary file beside the target while its SHA-256 is
 * computed, then renamed into place only if the length and digest match. A failed download leaves
 * nothing behind.
 */
final class Download {

  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(15))
          .followRedirects(HttpClient.Redirect.NORMAL)
          .build();

  private Download() {}

  static void fetch(URI uri, Path target, String sha256, Consumer<String> log) throws IOException {
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try {
      HttpResponse<InputStream> response =
          HTTP.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build(),
              HttpResponse.BodyHandlers.ofInputStream());
      if (response.statusCode() != 200) {
        response.body().close();
        throw new IOException("HTTP " + response.statusCode());
      }
      long length = response.headers().firstValueAsLong("content-length").orElse(-1);
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      long copied;
      try (InputStream body =
              new DigestInputStream(progress(response.body(), length, target), digest);
          OutputStream out = Files.newOutputStream(part)) {
        copied = body.transferTo(out);
      }
      if (length >= 0 && copied != length) {
        throw new IOException("truncated: got " + copied + " of " + length + " bytes");
      }
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equalsIgnoreCase(sha256)) {
        throw new IOException("SHA-256 mismatch: expected " + sha256 + ", got " + actual);
      }
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      log.accept("  " + target.getFileName() + ": " + copied + " bytes, SHA-256 verified");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  private static InputStream progress(InputStream in, long length, Path target) {
    java.io.Console console = System.console();
    if (console == null || !console.isTerminal()) {
      return in;
    }
    ProgressBarBuilder b =
        new ProgressBarBuilder()
            .setTaskName(target.getFileName().toString())
            .setUnit(" MB", 1 << 20)
            .setInitialMax(length);
    return ProgressBar.wrap(in, b);
  }
}
