package dev.latentstream.ops;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A small file system of the test's own, to fill up: a tmpfs mounted on a directory (root only; CI
 * runs as root) and unmounted on close, with a filler file that takes all its space but what a test
 * leaves free.
 */
final class Tmpfs implements AutoCloseable {

  final Path dir;
  private final Path filler;

  private Tmpfs(Path dir) {
    this.dir = dir;
    this.filler = dir.resolve("filler");
  }

  /**
   * Mounts a tmpfs of {@code megabytes} on {@code dir} (made if missing); skips the test when not
   * root.
   */
  static Tmpfs mount(Path dir, int megabytes) throws IOException, InterruptedException {
    Assumptions.assumeTrue(
        uid() == 0,
        "mounting a tmpfs to fill up needs root (CI runs as root); this is uid " + uid());
    Files.createDirectories(dir);
    run("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", dir.toString());
    return new Tmpfs(dir);
  }

  long free() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  /**
   * Grows the filler until {@code leave} bytes are free (as of now: whatever else writes there
   * changes it).
   */
  void fill(long leave) throws IOException {
    long more = free() - leave;
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch =
        FileChannel.open(
            filler,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
      while (more > 0) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), more));
        more -= ch.write(chunk);
      }
    } catch (IOException e) {
      // Something else there took the rest meanwhile: the disk is as full as asked, or fuller.
      if (!String.valueOf(e.getMessage()).contains("No space left on device")) {
        throw e;
      }
    }
  }

  /** Space returns: the filler is removed. */
  void unfill() throws IOException {
    Files.deleteIfExists(filler);
  }

  @Override
  public void close() throws IOException, InterruptedException {
    // Lazy: a process the test failed to end may still hold a file there; the mount goes when it
    // does.
    run("umount", "-l", dir.toString());
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + said);
    }
  }

  private static int uid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Integer.parseInt(List.of(line.substring(4).strip().split("\\s+")).getFirst());
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }
}
