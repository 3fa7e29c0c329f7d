package dev.latentstream.server;

import dev.latentstream.train.EpochResult;
import dev.latentstream.train.Frame;
import dev.latentstream.train.RunStart;
import dev.latentstream.train.SettingChange;
import dev.latentstream.train.StepMetrics;
import dev.latentstream.train.TrainingListener;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * The trainer's listener on the server side: runs on the trainer thread, updates the job's progress and
 * publishes every event on the event bus (which is thread-safe). It never blocks the trainer: publishing
 * only enqueues.
 */
final class EventPublisher implements TrainingListener {

  private final Vertx vertx;
  private final Job job;

  EventPublisher(Vertx vertx, Job job) {
    this.vertx = vertx;
    this.job = job;
  }

  @Override
  public void onStart(RunStart start) {
    job.batchesPerEpoch = start.batchesPerEpoch();
    job.device = start.device();
    job.classes = start.classNames();
    job.step = start.startStep();
    job.epoch = start.startEpoch();
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "status").put("job", job.toJson()));
  }

  @Override
  public void onStep(StepMetrics m) {
    job.step = m.step();
    job.imagesPerSecond = m.imagesPerSecond();
    JsonObject terms = new JsonObject();
    m.terms().forEach(terms::put);
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "step").put("job", job.num)
        .put("step", m.step()).put("epoch", m.epoch()).put("terms", terms).put("time", System.currentTimeMillis()));
  }

  @Override
  public void onEpoch(EpochResult e) {
    job.epoch = e.epoch();
    job.testLoss = e.testLoss();
    job.epochSeconds = e.seconds();
    JsonObject train = new JsonObject();
    e.trainTerms().forEach(train::put);
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "epoch").put("job", job.num)
        .put("epoch", e.epoch()).put("step", e.step()).put("test", e.testLoss()).put("train", train)
        .put("seconds", e.seconds()));
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "status").put("job", job.toJson()));
  }

  @Override
  public void onFrame(Frame frame) {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_FRAMES, FrameMessage.of(job.num, frame));
  }

  @Override
  public void onSettingChanged(SettingChange c) {
    vertx.eventBus().publish(Addresses.FROM_TRAINER_EVENTS, new JsonObject().put("kind", "setting").put("job", job.num)
        .put("step", c.step()).put("epoch", c.epoch()).put("key", c.key()).put("value", c.value()));
  }
}
