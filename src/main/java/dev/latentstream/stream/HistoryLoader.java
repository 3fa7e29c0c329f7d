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
 * <p>A past that cannot be read (its trainer node cut off, say) is not pretended away: the log says
 * the history goes out without it, and it is read again a few times; when it comes, the job's loss
 * subscribers get a fresh history with it.
 *
 * <p>Threads: one per hub, called on the hub's event loop, which alone touches the streams and the
 * sessions. Files are read and parsed on a worker ({@link RunFiles}, which may wait there for the
 * trainer node's replies), and snapshots are built on one; their results are used back on the event
 * loop.
 */
final class HistoryLoader {

  private static final System.Logger LOG = System.getLogger(HistoryLoader.class.getName());

  /** How long after a failed read of a run's past it is read again. */
  static final long PAST_RETRY_MS = 5_000;

  /** How many times a run's past is read before the stream does without it. */
  static final int PAST_ATTEMPTS = 4;

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
    // A subscriber these points would not continue waits from now on, and is served just below.
    fanOut.flushLoss(List.of(js));
    List<List<Encoded>> once = new ArrayList<>(1);
    JobHistory h = js.history();
    fanOut.deliverHistory(
        js.num,
        () -> {
          if (once.isEmpty()) {
            once.add(h.messages(snap));
          }
          return once.getFirst();
        },
        h.hasLoss() ? h.lastStep() : 0);
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
    js.pastLoading(
        readPast(js, limit)
            .recover(
                t -> {
                  LOG.log(
                      System.Logger.Level.WARNING,
                      "the history of "
                          + js.id()
                          + " goes out without "
                          + before(limit)
                          + ": cannot read them ("
                          + t.getMessage()
                          + "); reading them again in "
                          + PAST_RETRY_MS
                          + " ms");
                  vertx.setTimer(PAST_RETRY_MS, id -> readPastAgain(js, limit, 1));
                  return Future.succeededFuture();
                }));
    return js.pastLoaded();
  }

  /** Reads the run's past up to {@code upTo} on a worker and puts it in front of its history. */
  private Future<Void> readPast(JobStream js, long upTo) {
    int keep = config.frameHistory();
    return vertx
        .executeBlocking(() -> RunFiles.read(runFiles(js.id()), js.num, js.id(), upTo, keep))
        .map(
            past -> {
              JobHistory history = js.history();
              // Still the stream whose past this is, and nothing put in front meanwhile.
              if (current.test(js) && (!history.hasLoss() || history.firstStep() == upTo + 1)) {
                history.prepend(past, keep);
              }
              return (Void) null;
            });
  }

  /**
   * A past that could not be read is asked for again, up to {@link #PAST_ATTEMPTS} times in all;
   * once read, every loss subscriber of the stream gets a fresh history with it, replacing the one
   * without it. Meanwhile they have what this gateway holds (the steps since the run's first here).
   */
  private void readPastAgain(JobStream js, long upTo, int failed) {
    if (!current.test(js)) {
      return; // a newer run replaced the stream: its own past is read for it
    }
    readPast(js, upTo)
        .onComplete(
            ar -> {
              if (!current.test(js)) {
                return;
              }
              if (ar.succeeded()) {
                LOG.log(
                    System.Logger.Level.INFO,
                    "read " + before(upTo) + " of " + js.id() + " now: its viewers get them");
                if (fanOut.awaitHistory(js.num)) {
                  sendHistory(js);
                }
              } else if (failed + 1 < PAST_ATTEMPTS) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "still cannot read "
                        + before(upTo)
                        + " of "
                        + js.id()
                        + " ("
                        + ar.cause().getMessage()
                        + "); trying again in "
                        + PAST_RETRY_MS
                        + " ms");
                vertx.setTimer(PAST_RETRY_MS, id -> readPastAgain(js, upTo, failed + 1));
              } else {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "gave up reading "
                        + before(upTo)
                        + " of "
                        + js.id()
                        + " after "
                        + PAST_ATTEMPTS
                        + " attempts ("
                        + ar.cause().getMessage()
                        + "): its viewers' history starts at the run's first step here");
              }
            });
  }

  private static String before(long upTo) {
    return upTo == Long.MAX_VALUE ? "its recorded steps" : "its steps up to " + upTo;
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
