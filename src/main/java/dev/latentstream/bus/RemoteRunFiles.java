package dev.latentstream.bus;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * Reads files of a job's run directory from the trainer node that owns it, a chunk per request over
 * the event bus: how a gateway on another machine serves a run's past (history, metrics, epoch
 * frames, the checkpoint) without sharing the trainer's disk.
 *
 * <p>Each chunk request has {@link #CHUNK_TIMEOUT_MS} to be answered, and one that fails or goes
 * unanswered is asked again, up to {@link #ATTEMPTS} times, with its route resolved anew each time:
 * the node a stale route named may be cut off, and the routes may have learnt the job's new owner
 * meanwhile (see {@link TrainerRoutes}). A node that answers with a refusal (a 4xx code: no such
 * file, a name outside the layout) is not asked again. Nothing here blocks: it runs on the event
 * loop of the routes' verticle, or wherever the caller's futures complete.
 */
public final class RemoteRunFiles {

  private static final System.Logger LOG = System.getLogger(RemoteRunFiles.class.getName());

  /**
   * How long one chunk request waits for its reply: a trainer node reads a megabyte in
   * milliseconds, so this much silence means the node is gone or cut off.
   */
  static final long CHUNK_TIMEOUT_MS = 3_000;

  /** How many times a chunk is asked for before the read fails. */
  static final int ATTEMPTS = 3;

  /** The pause before asking again, so a route corrected by a status or a heartbeat is used. */
  static final long RETRY_DELAY_MS = 250;

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
    return chunk(
        new TrainerCommand.ReadRunFile(job, name, offset, TrainerCommand.ReadRunFile.MAX_CHUNK), 1);
  }

  /**
   * The trainer node answered and refused the request (a bad name, say): not worth asking again.
   */
  private static boolean refused(Throwable t) {
    return t instanceof ReplyException r
        && r.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && r.failureCode() >= 400
        && r.failureCode() < 500;
  }

  private Future<JsonObject> chunk(TrainerCommand.ReadRunFile read, int attempt) {
    String address = routes.address(read);
    return routes
        .request(read, new DeliveryOptions().setSendTimeout(CHUNK_TIMEOUT_MS))
        .recover(
            t -> {
              if (t instanceof ReplyException r && r.failureCode() == 404) {
                return Future.succeededFuture(null);
              }
              String what =
                  read.name()
                      + " of job "
                      + read.job()
                      + " at byte "
                      + read.offset()
                      + " from "
                      + address;
              if (refused(t)) {
                return Future.failedFuture(t); // the node answered: asking again changes nothing
              }
              if (attempt >= ATTEMPTS) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "gave up reading "
                        + what
                        + " after "
                        + ATTEMPTS
                        + " attempts: "
                        + t.getMessage());
                return Future.failedFuture(
                    new IllegalStateException(
                        "no trainer node answered for "
                            + read.name()
                            + " of job "
                            + read.job()
                            + " in "
                            + ATTEMPTS
                            + " attempts (last: "
                            + t.getMessage()
                            + ")",
                        t));
              }
              LOG.log(
                  System.Logger.Level.INFO,
                  "reading " + what + " failed (" + t.getMessage() + "); asking again");
              return routes.vertx().timer(RETRY_DELAY_MS).compose(v -> chunk(read, attempt + 1));
            });
  }
}
