package dev.latentstream.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A viewer that reconnects as the page does ({@code web/src/backoff.js}): when its socket closes or
 * a connect fails it waits a full-jitter back-off, 0 to 3 s doubling up to 15 s, connects again and
 * subscribes to the job's loss stream. It can come from a loopback address of its own (127.0.0.x),
 * so a gateway behind a proxy counts it apart from the others. What it receives goes through a
 * {@link LossContinuity}.
 */
final class Viewer implements WebSocket.Listener, AutoCloseable {

  static final long BASE_MS = 3000;
  static final long CAP_MS = 15000;
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "viewer-reconnects");
            t.setDaemon(true);
            return t;
          });

  final LossContinuity loss;

  /** Milliseconds from each lost socket to the history on the next one. */
  final List<Long> reconnectMillis = new CopyOnWriteArrayList<>();

  private final HttpClient http;
  private final URI uri;
  private final int job;
  private final Random random;
  private final StringBuilder text = new StringBuilder();
  private volatile WebSocket ws;
  private volatile boolean closed;
  private volatile long lostAt = -1;
  private volatile int connections;
  private int attempt;

  /** Connects now; {@code from} is the local address to connect from (null: any). */
  Viewer(String name, URI uri, InetAddress from, int job, long seed) {
    this.loss = new LossContinuity(name);
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    this.http = (from == null ? b : b.localAddress(from)).build();
    this.uri = uri;
    this.job = job;
    this.random = new Random(seed);
    connect();
  }

  private void connect() {
    if (closed) {
      return;
    }
    http.newWebSocketBuilder()
        .connectTimeout(Duration.ofSeconds(5))
        .buildAsync(uri, this)
        .whenComplete(
            (socket, err) -> {
              if (err != null) {
                lost();
                return;
              }
              ws = socket;
              connections++;
              synchronized (this) {
                attempt = 0;
              }
              socket.sendText(
                  new JsonObject()
                      .put("type", "subscribe")
                      .put("id", "s")
                      .put("job", job)
                      .put("streams", new JsonArray().add("loss"))
                      .encode(),
                  true);
            });
  }

  /** The socket is gone or never opened: wait as the page does, then try again. */
  private void lost() {
    loss.disconnected();
    if (lostAt < 0) {
      lostAt = System.nanoTime();
    }
    long wait;
    synchronized (this) {
      long ceiling = Math.min(CAP_MS, BASE_MS << Math.min(attempt++, 20));
      wait = (long) (random.nextDouble() * ceiling);
    }
    if (!closed) {
      TIMER.schedule(this::connect, wait, TimeUnit.MILLISECONDS);
    }
  }

  /** Whether the viewer has lost its socket and not yet had a history on a new one. */
  boolean away() {
    return lostAt >= 0;
  }

  int connections() {
    return connections;
  }

  @Override
  public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
    text.append(data);
    if (last) {
      JsonObject m = new JsonObject(text.toString());
      text.setLength(0);
      loss.received(m);
      if ("history".equals(m.getString("type")) && lostAt >= 0) {
        reconnectMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lostAt));
        lostAt = -1;
      }
    }
    socket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
    socket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
    lost();
    return null;
  }

  @Override
  public void onError(WebSocket socket, Throwable error) {
    lost();
  }

  @Override
  public void close() {
    closed = true;
    WebSocket s = ws;
    if (s != null) {
      s.abort();
    }
  }
}
