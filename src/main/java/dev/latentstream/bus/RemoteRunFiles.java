package dev.latentstream.bus;

import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

/**
 * Reads files of a job's run directory from the trainer node that owns it, a chunk per request over
 * the event bus: how a gateway on another machine serves a run's past (history, metrics, epoch
 * frames, the checkpoint) without sharing the trainer's disk.
 */
public final class RemoteRunFiles {

  private final TrainerRoutes routes;

  public RemoteRunFiles(TrainerRoutes routes) {
    this.routes = routes;
  }

  /**
   * The whole file, or null when the trainer node has no file by that name for the job. Fails when
   * it is over {@code maxBytes}, or when no trainer answers.
   */
  public Future<byte[]> read(Object job, String name, long maxBytes) {
    return chunk(job, name, 0)
        .compose(
            first -> {
              if (first == null) {
                return Future.succeededFuture(null);
              }
              long size = first.getLong("size");
              if (size > maxBytes) {
                return Future.failedFuture(
                    new IllegalStateException(
                        name
                            + " is "
                            + size
                            + " bytes, over the "
                            + maxBytes
                            + " a gateway relays"));
              }
              byte[] out = new byte[(int) size];
              byte[] head = first.getBinary("bytes");
              System.arraycopy(head, 0, out, 0, Math.min(head.length, out.length));
              return rest(job, name, out, head.length).map(v -> out);
            });
  }

  private Future<Void> rest(Object job, String name, byte[] out, int filled) {
    if (filled >= out.length) {
      return Future.succeededFuture();
    }
    return chunk(job, name, filled)
        .compose(
            next -> {
              byte[] part = next == null ? new byte[0] : next.getBinary("bytes");
              if (part.length == 0) {
                // The file shrank meanwhile (rewritten by a resumed run): what was read is all
                // there is.
                return Future.failedFuture(
                    new IllegalStateException(name + " changed while it was read; try again"));
              }
              System.arraycopy(part, 0, out, filled, Math.min(part.length, out.length - filled));
              return rest(job, name, out, filled + part.length);
            });
  }

  /** One chunk from {@code offset}, or null for no such file. */
  private Future<JsonObject> chunk(Object job, String name, long offset) {
    return routes
        .request(
            new TrainerCommand.ReadRunFile(job, name, offset, TrainerCommand.ReadRunFile.MAX_CHUNK))
        .recover(
            t ->
                t instanceof ReplyException r && r.failureCode() == 404
                    ? Future.succeededFuture(null)
                    : Future.failedFuture(t));
  }
}
