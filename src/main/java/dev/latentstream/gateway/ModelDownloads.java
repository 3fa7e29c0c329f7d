package dev.latentstream.gateway;

import dev.latentstream.export.ModelExport;
import dev.latentstream.export.ModelWeights;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exported models ({@code GET /api/jobs/{id}/model.*}) of the process's gateways, one checkpoint's worth per
 * job: its weights, read once on a worker, and each format and part encoded once. A checkpoint is known by its
 * file's size and modification time, so a page polling for new weights costs a file stat (or, on a gateway
 * node, one small event-bus request) until the trainer writes the next checkpoint. Thread-safe: every HTTP
 * verticle instance's event loop calls it.
 */
final class ModelDownloads {

  /** A checkpoint file as it is now. */
  record Version(long size, long modified) {}

  /** An encoded model: its bytes, and the checkpoint step they are from (the ETag). */
  record File(byte[] bytes, long step, int epoch) {}

  private record Entry(Version version, Future<ModelWeights> weights, ConcurrentHashMap<String, Future<File>> files) {}

  private final ConcurrentHashMap<String, Entry> byJob = new ConcurrentHashMap<>();

  /**
   * The weights of {@code job}'s checkpoint at {@code version}: cached, or {@code read} on a worker when the
   * checkpoint changed. A failed read is not kept, so the next request tries again.
   */
  Future<ModelWeights> weights(Vertx vertx, String job, Version version, Callable<ModelWeights> read) {
    Entry e = byJob.compute(job, (k, old) -> old != null && old.version.equals(version) ? old
        : new Entry(version, vertx.executeBlocking(read, false), new ConcurrentHashMap<>()));
    e.weights.onFailure(t -> byJob.remove(job, e));
    return e.weights;
  }

  /** {@code weights} of {@code job} (as {@link #weights} returned them) in {@code format}, only {@code part}. */
  Future<File> file(Vertx vertx, String job, ModelWeights weights, ModelExport.Format format, ModelWeights.Part part) {
    Entry e = byJob.get(job);
    Callable<File> encode = () -> new File(ModelExport.bytes(weights.only(part), format), weights.step(), weights.epoch());
    if (e == null || !e.weights.succeeded() || e.weights.result() != weights) {
      return vertx.executeBlocking(encode, false);
    }
    return e.files.computeIfAbsent(format + "/" + part, k -> vertx.executeBlocking(encode, false));
  }
}
