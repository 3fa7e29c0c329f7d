package dev.latentstream.jobs;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * The failover group a trainer node belongs to: the trainer nodes whose runs directories hold the
 * same {@value #FILE} (made once by the first node, so nodes sharing a directory share it wherever
 * they mount it). Read once, at start-up, by the thread that builds the node's {@link Leases}.
 */
final class FailoverGroup {

  /** In the runs directory: the failover group's id. */
  static final String FILE = ".latentstream-group";

  private static final System.Logger LOG = System.getLogger(FailoverGroup.class.getName());

  private FailoverGroup() {}

  /** The failover group of {@code runsDir}: the id in its {@value #FILE}, made if missing. */
  static String of(Path runsDir) {
    Path file = runsDir.resolve(FILE);
    try {
      Files.createDirectories(runsDir);
      if (!Files.exists(file)) {
        Path tmp = runsDir.resolve(FILE + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, UUID.randomUUID().toString());
        try {
          // No replace: of two nodes making it at once, the first one's id stands.
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException other) {
          Files.deleteIfExists(tmp);
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      String id = Files.readString(file).strip();
      if (id.isEmpty()) {
        throw new IOException(file + " is empty");
      }
      return id;
    } catch (IOException | RuntimeException e) {
      // The runs directory cannot be written (a readiness check says so): a group of its own.
      LOG.log(
          System.Logger.Level.WARNING,
          "cannot read or make " + file + " (" + e.getMessage() + "); this node is a group alone");
      return runsDir.toAbsolutePath().toString();
    }
  }
}
