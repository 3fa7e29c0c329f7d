package dev.latentstream.jobs;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The models of finished runs brought back to answer interactive requests, least recently used
 * first out: at most {@code maxModels} at once, and together at most {@code maxBytes} (by each
 * run's estimate). A run evicted is brought back again on its next request. Plain Java: {@code
 * open} makes an entry (an {@code Explorer} in the server), {@code close} is called on every entry
 * that leaves.
 *
 * <p>Threads: owned by the trainer verticle's context; not thread-safe.
 */
final class ModelCache<M extends AutoCloseable> {

  private final int maxModels;
  private final long maxBytes;
  private final Function<Job, M> open;
  private final ToLongFunction<Job> bytes;

  /** By job id, in access order: the first is the least recently used. */
  private final LinkedHashMap<String, Entry<M>> entries = new LinkedHashMap<>(16, 0.75f, true);

  private long used;
  private long opened;

  private record Entry<M>(Job job, M model, long bytes) {}

  ModelCache(int maxModels, long maxBytes, Function<Job, M> open, ToLongFunction<Job> bytes) {
    if (maxModels < 0 || maxBytes < 0) {
      throw new IllegalArgumentException("maxModels and maxBytes must be 0 or more");
    }
    this.maxModels = maxModels;
    this.maxBytes = maxBytes;
    this.open = open;
    this.bytes = bytes;
  }

  /**
   * The model of {@code j}, brought back if it is not here, after evicting the least recently used
   * until it fits.
   *
   * @throws ReplyError (conflict) when the cache holds no models or the run alone is over {@code
   *     maxBytes}
   */
  M get(Job j) {
    Entry<M> e = entries.get(j.id);
    if (e != null && e.job() == j) {
      return e.model();
    }
    if (e != null) {
      evict(j.id); // an older job object of the same run (it was resumed since)
    }
    long size = bytes.applyAsLong(j);
    if (maxModels == 0 || size > maxBytes) {
      throw new ReplyError(
          ReplyError.CONFLICT,
          "job "
              + j.id
              + " has no live model and the server keeps none of"
              + " finished runs within its limits (server keys \"maxExploredModels\", \"maxJobBytes\")");
    }
    while (!entries.isEmpty() && (entries.size() >= maxModels || used + size > maxBytes)) {
      evict(entries.keySet().iterator().next());
    }
    M model = open.apply(j);
    entries.put(j.id, new Entry<>(j, model, size));
    used += size;
    opened++;
    return model;
  }

  /**
   * Closes and forgets the run's model, if here (its run was deleted, resumed or its model failed).
   */
  void evict(String id) {
    Entry<M> e = entries.remove(id);
    if (e != null) {
      used -= e.bytes();
      close(e.model());
    }
  }

  /** Drops every entry whose model {@code alive} says has ended (it failed to load). */
  void dropIf(java.util.function.Predicate<M> ended) {
    for (Iterator<Map.Entry<String, Entry<M>>> it = entries.entrySet().iterator(); it.hasNext(); ) {
      Entry<M> e = it.next().getValue();
      if (ended.test(e.model())) {
        it.remove();
        used -= e.bytes();
        close(e.model());
      }
    }
  }

  void closeAll() {
    List.copyOf(entries.keySet()).forEach(this::evict);
  }

  int size() {
    return entries.size();
  }

  long bytes() {
    return used;
  }

  /** Models brought back so far, evicted ones included. */
  long opened() {
    return opened;
  }

  /** The ids held, least recently used first. */
  List<String> ids() {
    return List.copyOf(entries.keySet());
  }

  private static void close(AutoCloseable m) {
    try {
      m.close();
    } catch (Exception e) {
      System.getLogger(ModelCache.class.getName())
          .log(System.Logger.Level.WARNING, "closing a model: " + e);
    }
  }
}
