package dev.latentstream.jobs;

import dev.latentstream.bus.Busy;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.train.BusyException;
import dev.latentstream.train.Trainer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Decode, encode, interpolate and attribute against a job's model: parsed on the trainer verticle's context,
 * run on the job's trainer thread within its interactive budget ({@code Trainer.submit}), answered from
 * there (replying is thread-safe).
 */
final class ModelRequests {

  private final FrameRenderer renderer;

  ModelRequests(FrameRenderer renderer) {
    this.renderer = renderer;
  }

  void handle(Message<TrainerCommand> msg, Job j, TrainerCommand.ModelRequest r) {
    Trainer t = j.trainer;
    if (t == null || !j.active() || j.is(Job.Status.queued)) {
      throw new ReplyError(ReplyError.CONFLICT, "job " + j.id + " has no live model (it is " + j.status() + ")");
    }
    Interactive request = Interactive.parse(r.op(), r.body());
    CompletableFuture<JsonObject> reply = t.submit(live -> {
      long start = System.nanoTime();
      JsonObject result = request.run(live, renderer);
      return result.put(TrainerCommand.ModelRequest.TRAINER_MS, (System.nanoTime() - start) / 1e6);
    });
    reply.whenComplete((result, error) -> {
      if (error == null) {
        msg.reply(result);
        return;
      }
      Throwable cause = error instanceof CompletionException ? error.getCause() : error;
      if (cause instanceof BusyException busy) {
        msg.fail(Busy.FAILURE_CODE, new Busy(busy.getMessage(), busy.retryAfterMs()).failureMessage());
      } else {
        msg.fail(cause instanceof IllegalArgumentException ? ReplyError.BAD_REQUEST : ReplyError.CONFLICT,
            String.valueOf(cause.getMessage()));
      }
    });
  }
}
