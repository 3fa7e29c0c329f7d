package dev.latentstream.jobs;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.FrameMessage;
import dev.latentstream.bus.TrainerEvent;
import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.SettingChange;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.concurrent.RejectedExecutionException;

/**
 * The trainer's listener on the server side: runs on the trainer thread, updates the job's progress
 * and publishes every event on the event bus (which is thread-safe). It never blocks the trainer:
 * publishing only enqueues.
 *
 * <p>On a cluster the events are published from the trainer verticle's context, like the job's
 * other statuses ({@link JobEvents}). The clustered event bus keeps the order only of what one
 * context publishes to an address, and a thread outside Vert.x gets a new context at each publish:
 * a step could then overtake the status of its run (the one that names a failover), an earlier
 * step, or be overtaken by the job's final status. In one process delivery is in the order of the
 * calls, and the trainer thread publishes itself.
 */
final class EventPublisher implements TrainingListener {

  private final Vertx vertx;

  /** Where events are published from on a cluster; null in one process. */
  private final Context context;

  private final Job job;

  EventPublisher(Vertx vertx, Context verticle, Job job) {
    this.vertx = vertx;
    this.context = vertx.isClustered() ? verticle : null;
    this.job = job;
  }

  @Override
  public void onStart(RunStart start) {
    job.batchesPerEpoch = start.batchesPerEpoch();
    job.device = start.device();
    job.engine = start.engine().wireName();
    job.classes = start.classNames();
    job.step = start.startStep();
    job.epoch = start.startEpoch();
    publish(new TrainerEvent.Status(job.num, job.toJson()));
  }

  @Override
  public void onStep(StepMetrics m) {
    job.step = m.step();
    job.imagesPerSecond = m.imagesPerSecond();
    publish(
        new TrainerEvent.Step(job.num, m.step(), m.epoch(), System.currentTimeMillis(), m.terms()));
  }

  @Override
  public void onEpoch(EpochResult e) {
    job.epoch = e.epoch();
    job.testLoss = e.testLoss();
    job.epochSeconds = e.seconds();
    publish(new TrainerEvent.Epoch(job.num, e));
    publish(new TrainerEvent.Status(job.num, job.toJson()));
  }

  @Override
  public void onFrame(Frame frame) {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_FRAMES, FrameMessage.of(job.num, frame));
  }

  @Override
  public void onSettingChanged(SettingChange c) {
    publish(new TrainerEvent.Setting(job.num, c));
  }

  @Override
  public void onDiagnostics(Diagnostics d) {
    publish(new TrainerEvent.Diagnostics(job.num, d));
  }

  @Override
  public void onWarning(Warning w) {
    publish(new TrainerEvent.Warning(job.num, w));
  }

  private void publish(TrainerEvent e) {
    if (context == null) {
      vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, e);
      return;
    }
    try {
      context.runOnContext(v -> vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, e));
    } catch (RejectedExecutionException closing) {
      // The server is shutting down: nobody is left to tell.
    }
  }
}
