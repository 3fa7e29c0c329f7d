package dev.latentstream.stream;

import dev.latentstream.bus.RemoteRunFiles;
import dev.latentstream.bus.TrainerRoutes;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.runformat.MetricsCsv;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Gets a job's history to the clients that wait for it. It puts what the run directory holds from
 * before a stream's first point in front of its {@link JobHistory} (all of it for a past run, the
 * rows up to the checkpoint for a resumed one; a gateway without the run on its disk reads the
 * files from the trainer node over the event bus), and sends each waiting session the history
 * encoded once, from a snapshot built on a worker.
 *
 * <p>Threads: one per hub, called on the hub's event loop, which alone touches the streams and the
 * sessions. Files are read and parsed on a worker ({@link RunFiles}, which may wait there for the
 * trainer node's replies), and snapshots are built on one; their results are used back on the event
 * loop.
 */
final class HistoryLoader {

  private static final System.Logger LOG = System.getLogger(HistoryLoader.class.getName());

  /** The largest run file a gateway reads from a trainer node into memory. */
  static final long MAX_RELAYED_BYTES = 256L << 20;

  private final Vertx vertx;
  private final ServerConfig config;
  private final RemoteRunFiles remoteFiles;
  private final FanOut fanOut;
  private final StreamCounters counters;

  /** Whether a stream is still its job's current one (a resumed run replaces it). */
  private final Predicate<JobStream> current;

  HistoryLoader(
      Vertx vertx,
      ServerConfig config,
      TrainerRoutes routes,
      FanOut fanOut,
      StreamCounters counters,
      Predicate<JobStream> current) {
    this.vertx = vertx;
    this.config = config;
    this.remoteFiles = new RemoteRunFiles(routes);
    this.fanOut = fanOut;
    this.counters = counters;
    this.current = current;
  }

  /**
   * Sends the job's history to every session waiting for it: from the cached snapshot when it is
   * recent enough, else once a new one is built on a worker. Meanwhile their live loss waits, so
   * nothing reaches them before their history.
   */
  void sendHistory(JobStream js) {
    JobHistory h = js.history();
    HistorySnapshot snap = h.servingSnapshot();
    if (snap != null) {
      deliver(js, snap);
      return;
    }
    if (h.building()) {
      return; // the sessions are served when it is done
    }
    counters.historySnapshots++;
    h.buildSnapshot(vertx)
        .onComplete(
            ar -> {
              if (!current.test(js)) {
                return;
              }
              if (ar.failed()) {
                // A bug, not an input: the waiting sessions go live without a history rather than
                // wait for ever.
                LOG.log(
                    System.Logger.Level.ERROR,
                    "cannot build the history of " + js.id(),
                    ar.cause());
                fanOut.abandonHistory(js.num);
              } else if (ar.result() == null) {
                sendHistory(js); // past rows were put in front while it was built
              } else {
                deliver(js, ar.result());
              }
            });
  }

  /**
   * History, then the tail, both encoded once for every waiting session. The job's pending points
   * go to the other subscribers first, so every row after the tail reaches everyone in the next
   * live batch: no gap and no repeat in {@code step}.
   */
  private void deliver(JobStream js, HistorySnapshot snap) {
    fanOut.flushLoss(List.of(js));
    List<List<Encoded>> once = new ArrayList<>(1);
    fanOut.deliverHistory(
        js.num,
        () -> {
          if (once.isEmpty()) {
            once.add(js.history().messages(snap));
          }
          return once.getFirst();
        });
  }

  /**
   * Reads the stream's past once; every later call gets the same future. A fresh run has nothing
   * there; a resumed run (or one a late gateway joined) that has not yet stepped here is rewriting
   * its metrics.csv, so it is read at its first step instead: until then this returns a completed
   * future and remembers nothing.
   */
  Future<Void> loadPast(JobStream js) {
    if (js.pastLoaded() != null) {
      return js.pastLoaded();
    }
    JobHistory history = js.history();
    long upTo;
    if (history.hasLoss()) {
      upTo = history.firstStep() - 1;
    } else if (!js.active()) {
      upTo = Long.MAX_VALUE;
    } else if (js.resumedAtStep() < 0 && !js.joinedMidRun()) {
      upTo = 0;
    } else {
      return Future.succeededFuture();
    }
    if (upTo <= 0) {
      js.pastLoading(Future.succeededFuture());
      return js.pastLoaded();
    }
    long limit = upTo;
    int keep = config.frameHistory();
    js.pastLoading(
        vertx
            .executeBlocking(() -> RunFiles.read(runFiles(js.id()), js.num, js.id(), limit, keep))
            .map(
                past -> {
                  history.prepend(past, keep);
                  return (Void) null;
                })
            .recover(
                t -> {
                  LOG.log(
                      System.Logger.Level.WARNING,
                      "cannot read the history of " + js.id() + ": " + t);
                  return Future.succeededFuture();
                }));
    return js.pastLoaded();
  }

  /**
   * A run's files on this machine's disk: the trainer's own in one process, or a directory shared
   * with it. A gateway node without the run on its disk reads them from the trainer node over the
   * event bus (on a worker thread, which may wait for the replies).
   */
  private RunFiles.Source runFiles(String jobId) {
    Path local = config.runsDir().resolve(jobId);
    if (config.role() != ServerConfig.Role.gateway
        || Files.isRegularFile(local.resolve(MetricsCsv.FILE))) {
      return RunFiles.Source.disk(local);
    }
    return name -> {
      try {
        return remoteFiles
            .read(jobId, name, MAX_RELAYED_BYTES)
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new IOException(
            "cannot read " + name + " from the trainer node: " + e.getCause().getMessage(), e);
      } catch (InterruptedException | TimeoutException e) {
        throw new IOException("cannot read " + name + " from the trainer node: " + e, e);
      }
    };
  }
}
