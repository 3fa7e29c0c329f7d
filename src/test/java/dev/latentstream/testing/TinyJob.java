package dev.latentstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A job file for a VAE small enough to train in seconds (hidden [32], latent 2, batch 32) on the
 * data set in a directory, such as one {@link SyntheticIdx} wrote: what the command-line tests run.
 */
public final class TinyJob {
  private TinyJob() {}

  /**
   * Writes the job to {@code file}, with {@code members} (JSON members, each after a comma, such as
   * {@code ,"epochs":2}) added to it.
   */
  public static Path write(Path file, Path data, String members) throws IOException {
    Files.writeString(
        file,
        "{\"model\":\"vae\",\"hidden\":[32],\"latent\":2,\"batchSize\":32,\"dataset\":\""
            + data
            + "\""
            + members
            + "}");
    return file;
  }
}
