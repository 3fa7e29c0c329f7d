package dev.latentstream.rundir;

import dev.latentstream.runformat.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one process training a run: an exclusive lock ({@link FileChannel#tryLock}, an OS lock the
 * kernel releases when the process dies, even by {@code kill -9}) on {@code run.lock} in the run
 * directory, which also names the holder ("pid 1234, latentstream train, since ...") for the
 * message a second process gets. Headless {@code train} takes it for the whole run; a server takes
 * it for each job it trains. The file stays (emptied) when the lock is released: removing it would
 * let two processes lock two different files.
 *
 * <p>Blocking; any thread but an event loop. Close it on the thread that is done with the run.
 */
public final class RunLock implements AutoCloseable {

  public static final String FILE = "run.lock";

  /**
   * In a holder's note: the holder writes the run only through its {@link RunFence}, so a node that
   * took the run from it may train without this lock when the holder is frozen.
   */
  public static final String FENCED = "fenced by " + RunFence.FILE;

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private RunLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code runDir} (which must exist) for this process.
   *
   * @param holder what holds it, for the message another process gets (e.g. "latentstream train")
   * @throws HeldException when another process, or this one, holds it
   * @throws UncheckedIOException when the lock file cannot be opened
   */
  public static RunLock acquire(Path runDir, String holder) {
    Path file = runDir.resolve(FILE);
    FileChannel ch;
    try {
      ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw AtomicFile.cannotWrite(file, e);
    }
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      close(ch);
      throw new HeldException(runDir, "this process");
    } catch (IOException e) {
      close(ch);
      throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage(), e);
    }
    if (lock == null) {
      String who = holderOf(ch);
      close(ch);
      throw new HeldException(runDir, who.isEmpty() ? "another process" : who);
    }
    try {
      ch.truncate(0);
      AtomicFile.writeFully(
          ch,
          ByteBuffer.wrap(
              ("pid "
                      + ProcessHandle.current().pid()
                      + ", "
                      + holder
                      + ", since "
                      + Instant.now().truncatedTo(ChronoUnit.SECONDS)
                      + "\n")
                  .getBytes(StandardCharsets.UTF_8)));
    } catch (IOException fullDisk) {
      // The lock holds without the note; the note only makes the refusal friendlier.
    }
    return new RunLock(runDir, ch, lock);
  }

  /** The run directory this lock holds. */
  public Path dir() {
    return dir;
  }

  /**
   * What holds the lock of {@code runDir} now, as its file says; empty when no one does or it does
   * not say.
   */
  public static String holder(Path runDir) {
    try {
      return Files.readString(runDir.resolve(FILE), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static String holderOf(FileChannel ch) {
    try {
      ByteBuffer b = ByteBuffer.allocate(512);
      ch.read(b, 0);
      return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static void close(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing was locked
    }
  }

  /** Releases the lock; the file is emptied first, so it names no one. */
  @Override
  public void close() {
    try {
      if (lock.isValid()) {
        channel.truncate(0);
        lock.release();
      }
    } catch (IOException ignored) {
      // Closing the channel below releases the lock all the same.
    } finally {
      close(channel);
    }
  }

  /**
   * The run is being trained by someone else: the message names the run and, where known, the
   * holder.
   */
  public static final class HeldException extends RuntimeException {
    private final String holder;

    public HeldException(Path runDir, String holder) {
      super(runDir + " is being trained by " + holder + "; wait for it to end or stop it first");
      this.holder = holder;
    }

    /** What holds the lock, as its note says ("pid 1234, latentstream train, since ..."). */
    public String holder() {
      return holder;
    }
  }
}
