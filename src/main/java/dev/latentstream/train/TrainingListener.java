package dev.latentstream.train;

/**
 * Receives what a {@link Trainer} produces. Every callback runs on the trainer's own thread, between
 * steps, so an implementation must return quickly and must not keep references to libtorch objects:
 * everything handed over here is plain Java data the listener may keep.
 */
public interface TrainingListener {

  default void onStart(RunStart start) {}

  default void onStep(StepMetrics step) {}

  default void onEpoch(EpochResult epoch) {}

  default void onFrame(Frame frame) {}

  default void onSettingChanged(SettingChange change) {}

  default void onFinished(RunSummary summary) {}
}
