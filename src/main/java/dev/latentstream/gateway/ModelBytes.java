package dev.latentstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Exported model files held in memory, one {@link Buffer} per version, handed as it is to every
 * request for that version: a crowd of pages polling a run's decoder ({@code
 * model.safetensors?part=decoder}) costs one read of the file (or one relay from the trainer node)
 * per checkpoint, not one per request. A version is the export's file name, which carries its step,
 * part and format, with its run directory and size. The least recently used go first once more than
 * {@link #MAX_ENTRIES} or {@link #MAX_BYTES} are held; a failed or empty read is not kept, so the
 * next request reads again.
 *
 * <p>Threads: shared by every HTTP verticle instance (one per event loop), so its methods are
 * synchronized; a future it returns completes on the context of the request that started the read.
 */
final class ModelBytes {

  static final int MAX_ENTRIES = 16;
  static final long MAX_BYTES = 64L << 20;

  /** By version, in access order: the first is the least recently used. */
  private final Map<String, Future<Buffer>> held = new LinkedHashMap<>(16, 0.75f, true);

  private long bytes;
  private long reads;

  /**
   * The bytes of {@code version}: the ones held, or those {@code read} gives (null when there is no
   * such file), read once however many requests ask at the same time.
   */
  synchronized Future<Buffer> get(String version, Supplier<Future<Buffer>> read) {
    Future<Buffer> f = held.get(version);
    if (f != null) {
      return f;
    }
    reads++;
    Future<Buffer> reading = read.get();
    held.put(version, reading);
    reading.onComplete(ar -> settled(version, reading));
    return reading;
  }

  /** Counts a read's bytes once it is in, or forgets it if it failed or found nothing. */
  private synchronized void settled(String version, Future<Buffer> f) {
    if (held.get(version) != f) {
      return; // evicted meanwhile
    }
    if (f.failed() || f.result() == null) {
      held.remove(version);
      return;
    }
    bytes += f.result().length();
    var it = held.entrySet().iterator();
    while ((held.size() > MAX_ENTRIES || bytes > MAX_BYTES) && it.hasNext()) {
      var e = it.next();
      if (e.getValue() == f) {
        continue; // the newest stays, even alone over the bound: its requests are waiting
      }
      if (e.getValue().succeeded() && e.getValue().result() != null) {
        bytes -= e.getValue().result().length();
      }
      it.remove();
    }
  }

  /** Reads started so far: one per version while it stays held. */
  synchronized long reads() {
    return reads;
  }

  synchronized int size() {
    return held.size();
  }

  synchronized long bytes() {
    return bytes;
  }
}
