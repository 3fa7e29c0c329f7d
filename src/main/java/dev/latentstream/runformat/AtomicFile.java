package dev.latentstream.runformat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * How every file of a run directory is replaced: written in full to {@code NAME.tmp} beside it,
 * forced to the disk, renamed over {@code NAME} and the directory forced. A file under its final
 * name is therefore always whole, the old one or the new one, after a crash, a power cut or a full
 * disk; and a write that fails removes its temporary file, so nothing is left behind. {@link
 * #cannotWrite} turns the failure into one message that names the file and, when it is full, the
 * disk.
 *
 * <p>Blocking; any thread but an event loop.
 */
public final class AtomicFile {

  /** The temporary file's suffix; {@link #removeTemporaries} removes what a killed process left. */
  public static final String TMP = ".tmp";

  private AtomicFile() {}

  /** Writes what {@code body} writes, from the start of an empty channel. */
  @FunctionalInterface
  public interface Body {
    void writeTo(FileChannel channel) throws IOException;
  }

  /** Replaces {@code file} with {@code bytes}, whole or not at all. */
  public static void write(Path file, byte[] bytes) {
    write(file, ch -> writeFully(ch, ByteBuffer.wrap(bytes)));
  }

  /**
   * Replaces {@code file} with what {@code body} writes, whole or not at all.
   *
   * @throws UncheckedIOException with {@link #cannotWrite}'s message
   */
  public static void write(Path file, Body body) {
    Path tmp = temporary(file);
    boolean done = false;
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        body.writeTo(ch);
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      done = true;
      forceDirectory(file.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw cannotWrite(file, e);
    } finally {
      if (!done) {
        deleteQuietly(tmp);
      }
    }
  }

  /** The temporary file {@link #write} uses for {@code file}. */
  public static Path temporary(Path file) {
    return file.resolveSibling(file.getFileName() + TMP);
  }

  /** Writes all of {@code b}: a channel may take less than all in one call. */
  public static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Forces a directory's entries (a rename) to the disk, where the file system allows it. */
  public static void forceDirectory(Path dir) throws IOException {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a directory for fsync; the rename is still atomic there.
    }
  }

  public static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // Nothing more can be done; the next run's removeTemporaries tries again.
    }
  }

  /**
   * Removes the temporary files a killed process left in {@code dir} (not below it). Call only
   * while holding the run's lock ({@code rundir.RunLock}), when no one else can be writing them.
   */
  public static void removeTemporaries(Path dir) {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      // ".tmp.png": the plots' temporary name before this class wrote them.
      files
          .filter(
              f ->
                  (f.getFileName().toString().endsWith(TMP)
                          || f.getFileName().toString().endsWith(".tmp.png"))
                      && Files.isRegularFile(f))
          .forEach(AtomicFile::deleteQuietly);
    } catch (IOException ignored) {
      // Leftovers cost only space; the run itself is whole.
    }
  }

  /**
   * The failure to write {@code file} as one message for people: the file, the system's reason and,
   * when the disk is full, which disk and how much it has left, e.g. "no space left on device:
   * cannot write runs/a/checkpoint/latest.pt (disk /mnt/runs, tmpfs: 12 KB free)".
   */
  public static UncheckedIOException cannotWrite(Path file, IOException e) {
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException) {
      reason = "its directory does not exist";
    } else if (e instanceof java.nio.file.AccessDeniedException) {
      reason = "permission denied";
    } else if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
      reason = fse.getReason();
    }
    String message =
        full(e)
            ? "no space left on device: cannot write " + file + " (" + disk(file) + ")"
            : "cannot write " + file + ": " + reason;
    return new UncheckedIOException(message, e);
  }

  /** Whether {@code e} says the disk (or the user's quota on it) is full. */
  public static boolean full(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (m.contains("No space left on device") || m.contains("Disk quota exceeded")) {
        return true;
      }
    }
    return false;
  }

  /**
   * "disk MOUNT, DEVICE: N free" for the file system holding {@code file} (or its nearest existing
   * parent).
   */
  static String disk(Path file) {
    Path p = file.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    try {
      FileStore store = Files.getFileStore(p);
      // FileStore.toString() is "MOUNT (DEVICE)" on Linux; name() is the device alone.
      String mount = store.toString();
      int paren = mount.lastIndexOf(" (");
      mount = paren > 0 ? mount.substring(0, paren) : mount;
      return "disk " + mount + ", " + store.name() + ": " + bytes(store.getUsableSpace()) + " free";
    } catch (IOException | RuntimeException unknown) {
      return "the disk holding " + file.toAbsolutePath().getParent();
    }
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " bytes";
    }
    String[] units = {"KB", "MB", "GB", "TB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
  }
}
