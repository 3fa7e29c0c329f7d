package dev.latentstream.web;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay between a page and a server that can turn into a black hole: the links it
 * holds then stay open (no FIN, no RST) but carry nothing either way, as behind a pulled cable or a
 * frozen host. A link that was cut stays cut (its streams lost bytes mid-message); links accepted
 * after {@link #forward()} pass again. One virtual thread per direction; closing it closes all.
 */
final class BlackHoleProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final int target;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean holing;

  BlackHoleProxy(int target) throws IOException {
    this.target = target;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** From now on nothing passes on any link, open or new, and none is closed. */
  void blackHole() {
    holing = true;
    links.forEach(l -> l.cut = true);
  }

  /** New links pass again; the links cut before stay silent. */
  void forward() {
    holing = false;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket page = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        Link link = new Link(page, server, holing);
        links.add(link);
        Thread.ofVirtual().start(() -> link.pump(page, server));
        Thread.ofVirtual().start(() -> link.pump(server, page));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Link l : links) {
      l.page.close();
      l.server.close();
    }
  }

  private static final class Link {
    final Socket page;
    final Socket server;
    volatile boolean cut;

    Link(Socket page, Socket server, boolean cut) {
      this.page = page;
      this.server = server;
      this.cut = cut;
    }

    /** Copies {@code from} to {@code to} while the link is not cut; afterwards reads and drops. */
    void pump(Socket from, Socket to) {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        for (int n; (n = in.read(buf)) >= 0; ) {
          if (!cut) {
            out.write(buf, 0, n);
            out.flush();
          }
        }
        if (!cut) {
          to.shutdownOutput();
        }
      } catch (IOException e) {
        // the other side or close() ended the link
      }
    }
  }
}
