package dev.latentstream.testing;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * A Linux TUN device ({@code /dev/net/tun} with {@code IFF_TUN | IFF_NO_PI}: whole IP packets, no
 * header), for {@link LinkDelay}. All of the testing package's {@code java.lang.foreign} calls are
 * here, as {@code static final} handles onto libc. The instance owns one file descriptor; {@link
 * #close} closes it, and with it the kernel deletes the device (it is not made persistent), and
 * frees the scratch memory. One thread may {@link #receive} while another {@link #send}s: each
 * direction has buffers of its own.
 */
final class Tun implements AutoCloseable {

  /** The largest IP packet. */
  static final int MAX_PACKET = 65_536;

  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 0x80000;
  private static final long TUNSETIFF = 0x400454caL;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;
  private static final short POLLIN = 0x0001;
  private static final int EINTR = 4;
  private static final int IFNAMSIZ = 16;
  private static final int IFREQ_SIZE = 40;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");
  private static final MethodHandle OPEN =
      libc(
          "open",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          Linker.Option.firstVariadicArg(2));
  private static final MethodHandle IOCTL =
      libc(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
          Linker.Option.firstVariadicArg(2));
  private static final MethodHandle POLL =
      libc("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle READ =
      libc("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle WRITE =
      libc("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle CLOSE =
      libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  final String name;
  private final int fd;

  /** Scratch memory, one set per direction; closed by {@link #close}. */
  private final Arena arena = Arena.ofShared();

  private final MemorySegment readBuffer = arena.allocate(MAX_PACKET);
  private final MemorySegment readState = arena.allocate(CALL_STATE);
  private final MemorySegment pollfd = arena.allocate(8, 4);
  private final MemorySegment writeBuffer = arena.allocate(MAX_PACKET);
  private final MemorySegment writeState = arena.allocate(CALL_STATE);

  private Tun(String name, int fd) {
    this.name = name;
    this.fd = fd;
  }

  /** Makes TUN device {@code name} in this thread's network namespace, down and without address. */
  static Tun open(String name) {
    if (name.length() >= IFNAMSIZ) {
      throw new IllegalArgumentException("interface name over 15 characters: " + name);
    }
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = call.allocate(CALL_STATE);
      int fd =
          (int) OPEN.invokeExact(state, call.allocateFrom("/dev/net/tun"), O_RDWR | O_CLOEXEC, 0);
      check(fd, state, "open(/dev/net/tun)");
      MemorySegment ifreq = call.allocate(IFREQ_SIZE);
      ifreq.copyFrom(MemorySegment.ofArray(name.getBytes(StandardCharsets.US_ASCII)));
      ifreq.set(JAVA_SHORT, IFNAMSIZ, (short) (IFF_TUN | IFF_NO_PI));
      int rc = (int) IOCTL.invokeExact(state, fd, TUNSETIFF, ifreq);
      if (rc < 0) {
        int errno = (int) ERRNO.get(state, 0L);
        int ignored = (int) CLOSE.invokeExact(state, fd);
        throw new IllegalStateException(
            "ioctl(TUNSETIFF, " + name + ") failed: errno " + errno + " (it needs root)");
      }
      return new Tun(name, fd);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cannot open TUN device " + name, t);
    }
  }

  /**
   * Waits up to {@code timeoutMillis} for the next packet that the kernel routed into the device:
   * the packet, or null if none came. One thread at a time.
   */
  byte[] receive(int timeoutMillis) {
    try {
      pollfd.set(JAVA_INT, 0, fd);
      pollfd.set(JAVA_SHORT, 4, POLLIN);
      pollfd.set(JAVA_SHORT, 6, (short) 0);
      int ready = (int) POLL.invokeExact(readState, pollfd, 1L, timeoutMillis);
      if (ready == 0 || interrupted(ready, readState, "poll(" + name + ")")) {
        return null;
      }
      long n = (long) READ.invokeExact(readState, fd, readBuffer, readBuffer.byteSize());
      if (interrupted(n, readState, "read(" + name + ")")) {
        return null;
      }
      return readBuffer.asSlice(0, n).toArray(JAVA_BYTE);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cannot read " + name, t);
    }
  }

  /** Writes one packet into the device: the kernel receives it as if it arrived there. */
  void send(byte[] packet) {
    try {
      MemorySegment.copy(packet, 0, writeBuffer, JAVA_BYTE, 0, packet.length);
      long n = (long) WRITE.invokeExact(writeState, fd, writeBuffer, (long) packet.length);
      check(n, writeState, "write(" + name + ", " + packet.length + " bytes)");
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cannot write " + name, t);
    }
  }

  /** Closes the descriptor (the kernel deletes the device); only once both threads are done. */
  @Override
  public void close() {
    try {
      int ignored = (int) CLOSE.invokeExact(writeState, fd);
    } catch (Throwable t) {
      throw new IllegalStateException("cannot close " + name, t);
    } finally {
      arena.close();
    }
  }

  /** True for a call that was interrupted by a signal (retry); throws for any other failure. */
  private static boolean interrupted(long rc, MemorySegment state, String call) {
    if (rc >= 0) {
      return false;
    }
    int errno = (int) ERRNO.get(state, 0L);
    if (errno == EINTR) {
      return true;
    }
    throw new IllegalStateException(call + " failed: errno " + errno);
  }

  private static void check(long rc, MemorySegment state, String call) {
    if (rc < 0) {
      throw new IllegalStateException(call + " failed: errno " + (int) ERRNO.get(state, 0L));
    }
  }

  private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
    Linker.Option[] all = new Linker.Option[options.length + 1];
    all[0] = ERRNO_OPTION;
    System.arraycopy(options, 0, all, 1, options.length);
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, all);
  }
}
