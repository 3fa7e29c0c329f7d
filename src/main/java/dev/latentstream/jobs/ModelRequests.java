package dev.latentstream.jobs;

import dev.latentstream.bus.Busy;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.JobBudget;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.train.BusyException;
import dev.latentstream.train.Explorer;
import dev.latentstream.train.Trainer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Decode, encode, interpolate and attribute against a job's model: parsed on the trainer verticle's
 * context, run on the job's trainer thread within its interactive budget ({@code Trainer.submit}),
 * answered from there (replying is thread-safe). A finished or stopped run has no trainer: its
 * model is brought back from its checkpoint into a small least-recently-used {@link ModelCache} of
 * {@link Explorer}s, rationed alike.
 */
final class ModelRequests {

  private final FrameRenderer renderer;
  private final ModelCache<Explorer> finished;

  ModelRequests(ServerConfig config, FrameRenderer renderer, JobEvents events) {
    this.renderer = renderer;
    this.finished =
        new ModelCache<>(
            config.maxExploredModels(),
            config.maxJobBytes(),
            j ->
                Explorer.open(
                    j.spec,
                    () ->
                        Datasets.ensure(
                            j.spec.dataset(), config.dataDir(), line -> events.log(j, line)),
                    new Checkpoint(j.runDir),
                    config.interactiveMaxQueued(),
                    config.interactiveBudgetMsPerSecond(),
                    j.id),
            j -> JobBudget.estimate(j.spec).totalBytes());
  }

  void handle(Message<TrainerCommand> msg, Job j, TrainerCommand.ModelRequest r) {
    Interactive request = Interactive.parse(r.op(), r.body());
    Function<LiveModel, JsonObject> work =
        live -> {
          long start = System.nanoTime();
          JsonObject result = request.run(live, renderer);
          return result.put(
              TrainerCommand.ModelRequest.TRAINER_MS, (System.nanoTime() - start) / 1e6);
        };
    reply(msg, model(j).apply(work));
  }

  /**
   * Where the job's requests run: its trainer while it trains, else its model brought back from the
   * checkpoint.
   */
  private Function<Function<LiveModel, JsonObject>, CompletableFuture<JsonObject>> model(Job j) {
    Trainer t = j.trainer;
    if (t != null && j.active() && !j.is(Job.Status.queued)) {
      return t::submit;
    }
    if (j.is(Job.Status.running)) {
      // Running, but its trainer is not built yet (the data set loading, a former owner's run lock
      // let go): a moment's wait, not a conflict.
      return work ->
          CompletableFuture.failedFuture(
              new BusyException("job " + j.id + " is starting: its trainer is not ready yet", 500));
    }
    if (j.active() || j.spec == null || !Checkpoint.exists(j.runDir)) {
      throw new ReplyError(
          ReplyError.CONFLICT,
          "job "
              + j.id
              + " has no live model (it is "
              + j.status()
              + (j.active() ? ")" : " and has no checkpoint)"));
    }
    finished.dropIf(e -> !e.open()); // a model that failed to load is tried again
    Explorer e = finished.get(j);
    return e::submit;
  }

  /** Forgets a run's brought-back model: it was deleted or trains again. */
  void forget(Job j) {
    finished.evict(j.id);
  }

  void closeAll() {
    finished.closeAll();
  }

  private static void reply(Message<TrainerCommand> msg, CompletableFuture<JsonObject> reply) {
    reply.whenComplete(
        (result, error) -> {
          if (error == null) {
            msg.reply(result);
            return;
          }
          Throwable cause = error instanceof CompletionException ? error.getCause() : error;
          if (cause instanceof BusyException busy) {
            msg.fail(
                Busy.FAILURE_CODE,
                new Busy(busy.getMessage(), busy.retryAfterMs()).failureMessage());
          } else {
            msg.fail(
                cause instanceof IllegalArgumentException
                    ? ReplyError.BAD_REQUEST
                    : ReplyError.CONFLICT,
                String.valueOf(cause.getMessage()));
          }
        });
  }
}
