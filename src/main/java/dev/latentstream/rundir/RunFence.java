package dev.latentstream.rundir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentstream.runformat.AtomicFile;
import dev.latentstream.runformat.WriteFence;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who may write a run directory that the trainer nodes of a failover group share, checked as part
 * of each write. {@value #FILE} names the owner: a fencing {@code token}, its node's id ({@code
 * nodeId}) and name ({@code node}). A node that takes the job over raises the token ({@link
 * #take}); the owner's writes that decide what a resumed run continues from (a checkpoint's renames
 * into place, rows appended to {@code metrics.csv}, the file restarted) run inside {@link #commit},
 * which holds an exclusive OS lock ({@link FileChannel#lock}) on {@value #FILE} across the check
 * and the write, and refuses the write with {@link Stale} when the file names another owner. The
 * taker raises the token under the same lock, so a node frozen (SIGSTOP, a long pause) after it
 * last confirmed its lease either finishes its commit before the takeover or is refused: it cannot
 * replace the newer checkpoint of the node that took over, nor add rows after it.
 *
 * <p>The file is rewritten in place, never replaced by a rename (a lock belongs to an inode: a
 * renamed-over file would leave the old owner locking a file no one reads), padded to {@value
 * #SIZE} bytes so a rewrite never leaves the tail of a longer record. POSIX locks belong to the
 * process, and closing any descriptor of the file drops them all; so within a process every use of
 * the file takes one of {@link #STRIPES} locks (by path) and opens, locks, uses and closes its own
 * channel under it.
 *
 * <p>Blocking (a commit waits while another process commits or takes); any thread but an event
 * loop.
 */
public final class RunFence implements WriteFence {

  /** In the run directory: the owner's node and fencing token. */
  public static final String FILE = "lease.json";

  static final int SIZE = 512;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ReentrantLock[] STRIPES = new ReentrantLock[64];

  static {
    Arrays.setAll(STRIPES, i -> new ReentrantLock());
  }

  /** An owner as {@value #FILE} records it. */
  public record Owner(long token, String nodeId, String node) {
    boolean same(Owner o) {
      return o != null && o.token == token && o.nodeId.equals(nodeId);
    }
  }

  /** The run directory names another owner: this writer's write was not made. */
  public static final class Stale extends RuntimeException {
    private final transient Owner owner;

    Stale(Path runDir, Owner mine, Owner owner) {
      super(
          (owner == null
                  ? runDir.resolve(FILE) + " names no owner"
                  : "node "
                      + owner.node()
                      + " owns "
                      + runDir.getFileName()
                      + " now (token "
                      + owner.token()
                      + ")")
              + "; this node's token "
              + mine.token()
              + " may not write it");
      this.owner = owner;
    }

    /** The owner the run directory names, or null. */
    public Owner owner() {
      return owner;
    }
  }

  private final Path runDir;
  private final Owner mine;

  private RunFence(Path runDir, Owner mine) {
    this.runDir = runDir;
    this.mine = mine;
  }

  /** The fence of a writer that owns {@code runDir} as {@code mine} (from {@link #take}). */
  public static RunFence of(Path runDir, Owner mine) {
    return new RunFence(runDir, mine);
  }

  public Owner mine() {
    return mine;
  }

  /**
   * Makes node {@code nodeId} ({@code node}) the owner of {@code runDir}, which it holds the lease
   * of under {@code token}: the file keeps its owner when it names this node already, and is
   * otherwise given a token above both {@code token} and the one it names (the cluster's counter
   * starts again when the whole cluster does). Waits while another process commits.
   *
   * @return the owner now on the disk, this node
   */
  public static Owner take(Path runDir, long token, String nodeId, String node) {
    Path file = runDir.resolve(FILE);
    try {
      Files.createDirectories(runDir);
      return locked(
          runDir,
          true,
          ch -> {
            Owner was = read(ch);
            if (was != null && was.nodeId().equals(nodeId)) {
              return was;
            }
            Owner now = new Owner(Math.max(token, was == null ? 0 : was.token() + 1), nodeId, node);
            write(ch, now);
            return now;
          });
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(file, e);
    }
  }

  /** The owner {@code runDir} names, or null when it names none (or the file is unreadable). */
  public static Owner owner(Path runDir) {
    if (!Files.isRegularFile(runDir.resolve(FILE))) {
      return null;
    }
    try {
      return locked(runDir, false, RunFence::read);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Runs {@code write} while holding the lock, if the run directory still names this writer's
   * owner.
   *
   * @throws Stale without running it, when it names another owner (or none)
   */
  @Override
  public void commit(Write write) throws IOException {
    locked(
        runDir,
        true,
        ch -> {
          Owner now = read(ch);
          if (!mine.same(now)) {
            throw new Stale(runDir, mine, now);
          }
          write.run();
          return null;
        });
  }

  @FunctionalInterface
  private interface Use<T> {
    T apply(FileChannel ch) throws IOException;
  }

  private static <T> T locked(Path runDir, boolean exclusive, Use<T> use) throws IOException {
    Path file = runDir.resolve(FILE).toAbsolutePath().normalize();
    ReentrantLock stripe = STRIPES[Math.floorMod(file.hashCode(), STRIPES.length)];
    stripe.lock();
    try (FileChannel ch =
        exclusive
            ? FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(file, StandardOpenOption.READ)) {
      try (FileLock lock = ch.lock(0, Long.MAX_VALUE, !exclusive)) {
        return use.apply(ch);
      }
    } finally {
      stripe.unlock();
    }
  }

  private static Owner read(FileChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(ch.size(), 0), 1 << 16));
    while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
      // read it all
    }
    String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return null;
    }
    try {
      JsonNode o = JSON.readTree(text);
      if (!o.hasNonNull("token") || !o.hasNonNull("nodeId")) {
        return null;
      }
      return new Owner(o.get("token").asLong(), o.get("nodeId").asText(), o.path("node").asText());
    } catch (IOException notJson) {
      return null; // torn or foreign: it names no owner, and a taker rewrites it
    }
  }

  private static void write(FileChannel ch, Owner o) throws IOException {
    ObjectNode json = JSON.createObjectNode();
    json.put("node", o.node())
        .put("nodeId", o.nodeId())
        .put("token", o.token())
        .put("since", System.currentTimeMillis());
    byte[] text = (json.toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8);
    int size = Math.max(SIZE, text.length);
    byte[] padded = Arrays.copyOf(text, size);
    Arrays.fill(padded, text.length, size, (byte) ' ');
    ch.position(0);
    AtomicFile.writeFully(ch, ByteBuffer.wrap(padded));
    ch.truncate(size);
    ch.force(true);
  }
}
