package dev.latentstream.train;

import dev.latentstream.diagnostics.Diagnostics;
import dev.latentstream.diagnostics.Warning;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.SettingChange;

/**
 * Receives what a {@link Trainer} produces. Every callback runs on the trainer's own thread,
 * between steps, so an implementation must return quickly and must not keep references to libtorch
 * objects: everything handed over here is plain Java data the listener may keep.
 */
public interface TrainingListener {

  default void onStart(RunStart start) {}

  default void onStep(StepMetrics step) {}

  default void onEpoch(EpochResult epoch) {}

  default void onFrame(Frame frame) {}

  default void onSettingChanged(SettingChange change) {}

  /** Latent diagnostics on the test set, at each diagnostics tick. */
  default void onDiagnostics(Diagnostics diagnostics) {}

  /** An alarm: posterior collapse, inactive dimensions or a rising test loss. */
  default void onWarning(Warning warning) {}

  /**
   * The run is about to be checkpointed after {@code step} (at an epoch end, after {@link
   * #onEpoch}, or at a stop). A listener that records the steps makes that record durable up to the
   * step now, so a run resumed from the checkpoint finds every step before it; if it cannot (a full
   * disk), it throws and the checkpoint is not taken.
   */
  default void onCheckpointing(long step) {}

  /**
   * The run has ended. A listener that fails here (a full disk) throws, after doing what it could:
   * {@link Trainer#run} then reports the run as failed with that reason.
   */
  default void onFinished(RunSummary summary) {}

  /** One listener that forwards every event to each of {@code listeners}, in order. */
  static TrainingListener compose(TrainingListener... listeners) {
    java.util.List<TrainingListener> all = java.util.List.of(listeners);
    return new TrainingListener() {
      @Override
      public void onStart(RunStart start) {
        all.forEach(l -> l.onStart(start));
      }

      @Override
      public void onStep(StepMetrics step) {
        all.forEach(l -> l.onStep(step));
      }

      @Override
      public void onEpoch(EpochResult epoch) {
        all.forEach(l -> l.onEpoch(epoch));
      }

      @Override
      public void onFrame(Frame frame) {
        all.forEach(l -> l.onFrame(frame));
      }

      @Override
      public void onSettingChanged(SettingChange change) {
        all.forEach(l -> l.onSettingChanged(change));
      }

      @Override
      public void onDiagnostics(Diagnostics diagnostics) {
        all.forEach(l -> l.onDiagnostics(diagnostics));
      }

      @Override
      public void onWarning(Warning warning) {
        all.forEach(l -> l.onWarning(warning));
      }

      @Override
      public void onCheckpointing(long step) {
        all.forEach(l -> l.onCheckpointing(step));
      }

      /**
       * Every listener hears of the end, even after one of them failed; the first failure is thrown
       * after.
       */
      @Override
      public void onFinished(RunSummary summary) {
        RuntimeException failure = null;
        for (TrainingListener l : all) {
          try {
            l.onFinished(summary);
          } catch (RuntimeException e) {
            if (failure == null) {
              failure = e;
            } else {
              failure.addSuppressed(e);
            }
          }
        }
        if (failure != null) {
          throw failure;
        }
      }
    };
  }
}
