package dev.latentstream.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Synthetic;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.Sampler;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.render.Renderers;
import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunDirectoryWriter;
import dev.latentstream.wire.EpochResult;
import dev.latentstream.wire.Frame;
import dev.latentstream.wire.FrameKind;
import dev.latentstream.wire.SettingChange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TrainerTest {

  static final Dataset DATA = Synthetic.generate(512, 128, 42);

  static JobConfig job(String json) {
    return JobConfigs.parse(json, "test", "tiny");
  }

  static final String TINY_VAE =
      "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4,\"batchSize\":32,\"epochs\":2,"
          + "\"frameEverySteps\":8}";

  /** Records everything a run reports. */
  static final class Recorder implements TrainingListener {
    final List<StepMetrics> steps = new ArrayList<>();
    final List<EpochResult> epochs = new ArrayList<>();
    final List<Frame> frames = new ArrayList<>();
    final List<SettingChange> settings = new ArrayList<>();
    RunStart start;
    RunSummary summary;

    @Override
    public void onStart(RunStart s) {
      start = s;
    }

    @Override
    public void onStep(StepMetrics s) {
      steps.add(s);
    }

    @Override
    public void onEpoch(EpochResult e) {
      epochs.add(e);
    }

    @Override
    public void onFrame(Frame f) {
      frames.add(f);
    }

    @Override
    public void onSettingChanged(SettingChange c) {
      settings.add(c);
    }

    @Override
    public void onFinished(RunSummary s) {
      summary = s;
    }

    List<Double> losses() {
      return steps.stream().map(StepMetrics::loss).toList();
    }
  }

  /** A checkpoint store that hands everything to {@code real}; a test overrides what it watches. */
  static class Delegating implements CheckpointStore {
    private final CheckpointStore real;

    Delegating(CheckpointStore real) {
      this.real = real;
    }

    @Override
    public void save(
        org.bytedeco.pytorch.Module model,
        List<dev.latentstream.optim.Optim> optimizers,
        Progress progress) {
      real.save(model, optimizers, progress);
    }

    @Override
    public Progress load(
        org.bytedeco.pytorch.Module model, List<dev.latentstream.optim.Optim> optimizers) {
      return real.load(model, optimizers);
    }
  }

  /**
   * A trainer of {@code job} on {@link #DATA}, checkpointing in {@code dir} (resuming from it when
   * {@code resume}), reporting to each of {@code listeners}.
   */
  static Trainer newTrainer(
      JobConfig job, Path dir, boolean resume, TrainingListener... listeners) {
    return new Trainer(
        job,
        DATA,
        new Checkpoint(dir),
        Renderers.best(),
        TrainingListener.compose(listeners),
        resume);
  }

  static Recorder train(JobConfig job, Path dir, boolean resume) {
    Recorder r = new Recorder();
    newTrainer(job, dir, resume, new RunDirectoryWriter(dir), r).run();
    return r;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"model\":\"ae\",\"hidden\":[64],\"latent\":8}",
        "{\"model\":\"dae\",\"hidden\":[64],\"latent\":8,\"noise\":{\"kind\":\"mask\",\"level\":0.2}}",
        "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4}",
        "{\"model\":\"vae\",\"hidden\":[64],\"latent\":4,\"beta\":4}",
        "{\"model\":\"conv-vae\",\"conv\":{\"channels\":[4,8],\"dense\":16},\"reduction\":\"mean\",\"beta\":0.001}",
        "{\"model\":\"aae\",\"hidden\":[64],\"latent\":2,\"discriminator\":{\"hidden\":[32],\"lr\":0.0002}}"
      })
  void everyModelLearnsTheSyntheticData(String spec, @TempDir Path dir) {
    JobConfig job =
        JobConfigs.parse(
            spec.replaceFirst("\\{", "{\"batchSize\":32,\"epochs\":3,\"frameEverySteps\":0,"),
            "t",
            "t");
    Recorder r = train(job, dir, false);
    assertEquals(
        RunSummary.Status.COMPLETED, r.summary.status(), String.valueOf(r.summary.error()));
    double untrained = r.steps.getFirst().loss();
    double finalTest = r.epochs.getLast().testLoss();
    assertTrue(
        finalTest < 0.8 * untrained,
        job.model() + ": test loss " + finalTest + " vs untrained " + untrained);
    assertEquals(r.start.lossTerms(), List.copyOf(r.steps.getLast().terms().keySet()));
  }

  @Test
  void theSameSeedGivesTheSameLosses(@TempDir Path a, @TempDir Path b) {
    assertEquals(train(job(TINY_VAE), a, false).losses(), train(job(TINY_VAE), b, false).losses());
  }

  @Test
  void everyStreamProducesFramesThroughTheRun(@TempDir Path dir) {
    Recorder r = train(job(TINY_VAE), dir, false);
    Set<FrameKind> kinds = EnumSet.noneOf(FrameKind.class);
    r.frames.forEach(f -> kinds.add(f.kind()));
    assertEquals(EnumSet.allOf(FrameKind.class), kinds);
    assertTrue(r.frames.stream().anyMatch(f -> f.step() == 0), "frames before the first step");
    assertTrue(
        r.frames.stream().anyMatch(f -> f.step() > 0 && f.step() % 8 == 0 && f.step() < 16),
        "frames between epochs, every frameEverySteps");
    for (Frame f : r.frames) {
      assertArrayEquals(
          new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(f.png(), 4));
    }
  }

  @Test
  void resumeContinuesTheSameMetricSequenceAndCheckpointsReproduceOutputs(
      @TempDir Path straight, @TempDir Path split) throws IOException {
    JobConfig two = job(TINY_VAE);
    Recorder whole = train(two, straight, false);
    train(two.withEpochs(1), split, false);
    assertEquals(1, Checkpoint.readProgress(split).epoch());
    Recorder rest = train(two, split, true);
    assertEquals(16, rest.start.startStep());
    assertEquals(whole.losses().subList(16, 32), rest.losses());
    assertEquals(whole.epochs.getLast().testLoss(), rest.epochs.getLast().testLoss());
    assertEquals(
        withoutSeconds(straight.resolve("metrics.csv")),
        withoutSeconds(split.resolve("metrics.csv")));
    assertArrayEquals(sample(straight), sample(split));
  }

  /**
   * Trains {@code job} in {@code dir} and stops it after step {@code at} (the listener asks; the
   * loop stops next).
   */
  static Recorder trainAndStopAfter(JobConfig job, Path dir, long at) {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    Recorder r = new Recorder();
    TrainingListener stopper =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            if (m.step() == at) {
              trainer.get().stop();
            }
          }
        };
    trainer.set(newTrainer(job, dir, false, new RunDirectoryWriter(dir), r, stopper));
    assertEquals(RunSummary.Status.STOPPED, trainer.get().run().status());
    return r;
  }

  @Test
  void aRunStoppedMidEpochAndResumedTrainsExactlyAsAnUninterruptedRun(
      @TempDir Path straight, @TempDir Path split) throws IOException {
    JobConfig two = job(TINY_VAE.replace("}", ",\"iwaeSamples\":0}"));
    Recorder whole = train(two, straight, false);
    // 512 images in batches of 32: 16 steps per epoch; step 20 is the 4th batch of epoch 2.
    Recorder stopped = trainAndStopAfter(two, split, 20);
    assertEquals(20, stopped.steps.getLast().step());
    Checkpoint.Progress p = Checkpoint.readProgress(split);
    assertEquals(20, p.step());
    assertEquals(1, p.epoch());
    assertEquals(4, p.inEpoch().batches());

    Recorder rest = train(two, split, true);
    assertEquals(
        RunSummary.Status.COMPLETED, rest.summary.status(), String.valueOf(rest.summary.error()));
    assertEquals(20, rest.start.startStep());
    assertEquals(
        List.of(21L, 32L), List.of(rest.steps.getFirst().step(), rest.steps.getLast().step()));
    assertEquals(
        List.of(5, 16),
        List.of(rest.steps.getFirst().batch(), rest.steps.getLast().batch()),
        "the resumed epoch continues at its 5th batch and still has 16");
    // The generator state is restored: the VAE's noise, hence every loss, is what it would have
    // been.
    assertEquals(whole.losses().subList(20, 32), rest.losses());
    assertEquals(
        whole.epochs.getLast().trainTerms(),
        rest.epochs.getLast().trainTerms(),
        "the epoch's mean terms include the steps before the stop");
    assertEquals(whole.epochs.getLast().testLoss(), rest.epochs.getLast().testLoss());
    assertEquals(
        withoutSeconds(straight.resolve("metrics.csv")),
        withoutSeconds(split.resolve("metrics.csv")),
        "every step once, none dropped");
    assertArrayEquals(sample(straight), sample(split));
  }

  /**
   * Trains {@code job} in {@code dir}, pausing 1.1 s after step {@code slowStep}; with {@code
   * stopAtFirst} the run stops after the first checkpoint taken inside an epoch. Returns the
   * in-epoch checkpoints' progress.
   */
  static List<CheckpointStore.Progress> trainWithASlowStep(
      JobConfig job, Path dir, long slowStep, boolean stopAtFirst, Recorder r) {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    List<CheckpointStore.Progress> inEpoch = new ArrayList<>();
    CheckpointStore watched =
        new Delegating(new Checkpoint(dir)) {
          @Override
          public void save(
              org.bytedeco.pytorch.Module model,
              List<dev.latentstream.optim.Optim> optimizers,
              Progress p) {
            super.save(model, optimizers, p);
            if (p.inEpoch() != null && inEpoch.isEmpty() && stopAtFirst) {
              trainer
                  .get()
                  .stop(); // as if the node died here: nothing after this checkpoint is kept
            }
            if (p.inEpoch() != null) {
              inEpoch.add(p);
            }
          }
        };
    TrainingListener slow =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            if (m.step() == slowStep) {
              try {
                Thread.sleep(1100);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    trainer.set(
        new Trainer(
            job,
            DATA,
            watched,
            Renderers.best(),
            TrainingListener.compose(new RunDirectoryWriter(dir), r, slow),
            false));
    trainer.get().run();
    return inEpoch;
  }

  @Test
  void
      checkpointEverySecondsCheckpointsInsideAnEpochAndARunResumedFromThereTrainsExactlyAsAnUninterruptedOne(
          @TempDir Path straight,
          @TempDir Path periodic,
          @TempDir Path epochEndsOnly,
          @TempDir Path split)
          throws IOException {
    String spec = TINY_VAE.replace("}", ",\"iwaeSamples\":0,\"checkpointEverySeconds\":%d}");
    JobConfig everySecond = job(spec.formatted(1));
    assertEquals(60, job(TINY_VAE).checkpointEverySeconds(), "the default");
    Recorder whole = train(job(spec.formatted(0)), straight, false);

    Recorder withCheckpoints = new Recorder();
    List<CheckpointStore.Progress> taken =
        trainWithASlowStep(everySecond, periodic, 20, false, withCheckpoints);
    assertTrue(
        taken.stream().anyMatch(p -> p.step() == 20 && p.inEpoch().batches() == 4),
        "a second passed in step 20, the 4th batch of epoch 2: checkpointed there; "
            + taken.stream().map(CheckpointStore.Progress::where).toList());
    assertEquals(
        whole.losses(), withCheckpoints.losses(), "checkpointing changes nothing in the run");
    assertEquals(
        List.of(),
        trainWithASlowStep(job(spec.formatted(0)), epochEndsOnly, 20, false, new Recorder()),
        "0: epoch ends only");

    // The node dies right after its first checkpoint inside an epoch; another resumes from it.
    CheckpointStore.Progress at =
        trainWithASlowStep(everySecond, split, 20, true, new Recorder()).getFirst();
    Recorder rest = train(everySecond, split, true);
    assertEquals(at.step() + 1, rest.steps.getFirst().step());
    assertEquals(whole.losses().subList((int) at.step(), 32), rest.losses());
    assertEquals(whole.epochs.getLast().testLoss(), rest.epochs.getLast().testLoss());
    assertEquals(
        withoutSeconds(straight.resolve("metrics.csv")),
        withoutSeconds(split.resolve("metrics.csv")),
        "every step once, none dropped");
  }

  @Test
  void aStopBeforeAnyNewStepKeepsTheCheckpointItResumedFrom(@TempDir Path dir) {
    JobConfig two = job(TINY_VAE.replace("}", ",\"iwaeSamples\":0}"));
    trainAndStopAfter(two, dir, 20);
    Trainer t = newTrainer(two, dir, true);
    t.stop();
    RunSummary s = t.run();
    assertEquals(RunSummary.Status.STOPPED, s.status());
    assertEquals(20, s.steps());
    assertEquals(4, Checkpoint.readProgress(dir).inEpoch().batches());
    assertEquals(21, train(two, dir, true).steps.getFirst().step());
  }

  @Test
  void aGeneratorStateThatDoesNotFitThisLibtorchIsSetAsideAndTheResumeSaysSo(@TempDir Path dir) {
    JobConfig two = job(TINY_VAE.replace("}", ",\"iwaeSamples\":0}"));
    trainAndStopAfter(two, dir, 20);
    CheckpointStore foreign =
        new Delegating(new Checkpoint(dir)) {
          @Override
          public Progress load(
              org.bytedeco.pytorch.Module model, List<dev.latentstream.optim.Optim> optimizers) {
            Progress p = super.load(model, optimizers);
            InEpoch at = p.inEpoch();
            return new Progress(
                p.job(),
                p.epoch(),
                p.step(),
                p.height(),
                p.width(),
                new InEpoch(at.batches(), at.sums(), at.seconds(), new byte[16]));
          }
        };
    Recorder r = new Recorder();
    RunSummary s = new Trainer(two, DATA, foreign, Renderers.best(), r, true).run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    assertEquals(21, r.steps.getFirst().step());
    assertEquals(32, r.steps.getLast().step());
    assertTrue(
        r.start.resumeNote().contains("random-generator state does not fit"), r.start.resumeNote());
  }

  static byte[] sample(Path run) {
    try (Autoencoder model = Checkpoint.loadModel(run)) {
      return Sampler.sample(model, 16, 3, DATA, Renderers.best()).bytes();
    }
  }

  static List<String> withoutSeconds(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv);
    int seconds = List.of(lines.getFirst().split(",")).indexOf("seconds");
    return lines.stream()
        .map(
            l -> {
              String[] f = l.split(",", -1);
              f[seconds] = "";
              return String.join(",", f);
            })
        .toList();
  }

  @Test
  void aDivergingLossStopsTheRunAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    Recorder r = new Recorder();
    TrainingListener sabotage =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochResult e) {
            trainer.get().set("lr", 10);
          }
        };
    JobConfig job = job(TINY_VAE).withEpochs(5);
    trainer.set(newTrainer(job, dir, false, r, sabotage));
    RunSummary s = trainer.get().run();
    assertEquals(RunSummary.Status.FAILED, s.status());
    assertTrue(
        s.error().contains("became") && s.error().contains("last good checkpoint"), s.error());
    Checkpoint.Progress p = Checkpoint.readProgress(dir);
    assertTrue(p.epoch() >= 1 && p.epoch() < 5, "checkpoint from a finite epoch: " + p.epoch());
    assertTrue(Double.isFinite(r.epochs.get(p.epoch() - 1).testLoss()));
  }

  @Test
  void pausedRunsHoldStillWhileInteractiveRequestsAreServed(@TempDir Path dir) throws Exception {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    AtomicLong stepsSeen = new AtomicLong();
    CompletableFuture<Void> pausedAt = new CompletableFuture<>();
    TrainingListener pauser =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            stepsSeen.set(m.step());
            if (m.step() == 5) {
              trainer.get().pause();
              pausedAt.complete(null);
            }
          }
        };
    trainer.set(newTrainer(job(TINY_VAE), dir, false, pauser));
    Thread t = Thread.ofPlatform().start(() -> trainer.get().run());
    pausedAt.get(30, TimeUnit.SECONDS);
    float[] image =
        trainer.get().submit(live -> live.decode(new float[4], 1)).get(10, TimeUnit.SECONDS);
    assertEquals(28 * 28, image.length);
    LiveModel.Encoding e =
        trainer.get().submit(live -> live.encode(live.testImage(0), 1)).get(10, TimeUnit.SECONDS);
    assertEquals(4, e.mean().length);
    assertEquals(28 * 28, e.reconstruction().length);
    // Both requests were served after the pause took hold at step 5; no step ran in between.
    assertEquals(5, stepsSeen.get(), "no step while paused");
    assertTrue(trainer.get().isPaused());
    trainer.get().resume();
    t.join(60_000);
    assertEquals(32, stepsSeen.get());
    ExecutionException ended =
        assertThrows(
            ExecutionException.class,
            () -> trainer.get().submit(live -> live.latentDim()).get(5, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, ended.getCause());
    assertEquals("the run has ended", ended.getCause().getMessage());
  }

  @Test
  void malformedInteractiveRequestsFailWithoutHurtingTheRun(@TempDir Path dir) throws Exception {
    Trainer trainer = newTrainer(job(TINY_VAE), dir, false);
    CompletableFuture<float[]> bad = trainer.submit(live -> live.decode(new float[3], 1));
    CompletableFuture<float[]> nan =
        trainer.submit(live -> live.decode(new float[] {Float.NaN, 0, 0, 0}, 1));
    CompletableFuture<float[]> index = trainer.submit(live -> live.testImage(100_000));
    RunSummary s = trainer.run();
    assertEquals(RunSummary.Status.COMPLETED, s.status());
    for (CompletableFuture<float[]> f : List.of(bad, nan, index)) {
      ExecutionException ex =
          assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
      assertInstanceOf(IllegalArgumentException.class, ex.getCause());
    }
  }

  @Test
  void liveSettingsAreValidatedAppliedAndRecorded(@TempDir Path dir) throws IOException {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    Recorder r = new Recorder();
    TrainingListener changer =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            if (m.step() == 3) {
              trainer.get().set("lr", 5e-4);
              trainer.get().set("beta", 2);
            }
          }
        };
    trainer.set(newTrainer(job(TINY_VAE), dir, false, new RunDirectoryWriter(dir), r, changer));
    Trainer t = trainer.get();
    assertThrows(
        IllegalArgumentException.class, () -> t.set("noise", 0.1), "noise applies to dae only");
    assertThrows(IllegalArgumentException.class, () -> t.set("lr", -1));
    assertThrows(IllegalArgumentException.class, () -> t.set("momentum", 0.9));
    assertThrows(IllegalArgumentException.class, () -> t.set("frameEverySteps", 1.5));
    // The spec's bounds, one rule (JobConfigs.checkLiveSetting): lr's floor, freeBits' ceiling.
    assertThrows(IllegalArgumentException.class, () -> t.set("lr", 1e-13));
    assertThrows(IllegalArgumentException.class, () -> t.set("freeBits", 1000.5));
    t.run();
    assertEquals(List.of("lr", "beta"), r.settings.stream().map(SettingChange::key).toList());
    assertEquals(3, r.settings.getFirst().step());
    String csv = Files.readString(dir.resolve("metrics.csv"));
    assertTrue(
        csv.contains("lr=0.000500000;beta=2.00000"), csv.lines().limit(6).toList().toString());
  }

  /** A listener that changes settings at given steps, through the trainer it is given. */
  static final class SetAt implements TrainingListener {
    final AtomicReference<Trainer> trainer = new AtomicReference<>();
    final long at;
    final String key;
    final double value;

    SetAt(long at, String key, double value) {
      this.at = at;
      this.key = key;
      this.value = value;
    }

    @Override
    public void onStep(StepMetrics m) {
      if (m.step() == at) {
        trainer.get().set(key, value);
      }
    }
  }

  static Recorder trainSetting(String spec, SetAt change, Path dir) {
    Recorder r = new Recorder();
    Trainer t = newTrainer(job(spec), dir, false, r, change);
    change.trainer.set(t);
    RunSummary s = t.run();
    assertEquals(RunSummary.Status.COMPLETED, s.status(), String.valueOf(s.error()));
    return r;
  }

  @Test
  void aLiveBetaChangesTheObjectiveFromTheNextStep(@TempDir Path dir) {
    Recorder r =
        trainSetting(TINY_VAE.replace("}", ",\"iwaeSamples\":0}"), new SetAt(3, "beta", 0), dir);
    for (StepMetrics m : r.steps) {
      double recon = m.terms().get("recon");
      double kl = m.terms().get("kl");
      if (m.step() <= 3) {
        assertEquals(recon + kl, m.loss(), 1e-3 * m.loss(), "β = 1 at step " + m.step());
      } else {
        assertEquals(recon, m.loss(), 1e-9 * m.loss(), "β = 0 from step 4, step " + m.step());
      }
    }
  }

  @Test
  void aLiveFrameEveryStepsChangesWhenFramesAreRendered(@TempDir Path dir) {
    Recorder r =
        trainSetting(
            TINY_VAE.replace("}", ",\"iwaeSamples\":0}"), new SetAt(3, "frameEverySteps", 2), dir);
    Set<Long> latentSteps = new java.util.TreeSet<>();
    r.frames.stream()
        .filter(f -> f.kind() == FrameKind.LATENT)
        .forEach(f -> latentSteps.add(f.step()));
    assertEquals(
        Set.of(0L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L, 20L, 22L, 24L, 26L, 28L, 30L, 32L),
        latentSteps,
        "every 8 steps before the change, every 2 after it (and at epoch ends)");
  }

  @Test
  void aLiveNoiseLevelChangesWhatTheDenoisingAutoencoderSees(
      @TempDir Path kept, @TempDir Path changed) {
    // Masking every pixel leaves nothing to reconstruct from; switching the noise off lets the
    // model learn.
    String dae =
        "{\"model\":\"dae\",\"hidden\":[64],\"latent\":4,\"batchSize\":32,\"epochs\":2,"
            + "\"frameEverySteps\":0,\"noise\":{\"kind\":\"mask\",\"level\":1.0}}";
    Recorder blind = trainSetting(dae, new SetAt(-1, "noise", 0), kept);
    Recorder seeing = trainSetting(dae, new SetAt(1, "noise", 0), changed);
    double blindLoss = blind.epochs.getLast().testLoss();
    double seeingLoss = seeing.epochs.getLast().testLoss();
    assertTrue(
        seeingLoss < 0.9 * blindLoss,
        "noise 0 from step 2: " + seeingLoss + " vs masked " + blindLoss);
  }

  @Test
  void klWarmUpStartsFromZeroAndFreeBitsKeepAFloorUnderTheKlTerm(@TempDir Path a, @TempDir Path b) {
    Recorder warm =
        trainSetting(
            TINY_VAE.replace("}", ",\"klWarmupSteps\":16,\"iwaeSamples\":0}"),
            new SetAt(-1, "beta", 1),
            a);
    StepMetrics first = warm.steps.getFirst();
    assertEquals(
        first.terms().get("recon"), first.loss(), 1e-9 * first.loss(), "β = 0 at the first step");
    StepMetrics mid = warm.steps.get(8); // step 9: β = 8/16
    assertEquals(
        mid.terms().get("recon") + 0.5 * mid.terms().get("kl"), mid.loss(), 1e-3 * mid.loss());

    Recorder floor =
        trainSetting(TINY_VAE.replace("}", ",\"iwaeSamples\":0}"), new SetAt(2, "freeBits", 5), b);
    for (StepMetrics m : floor.steps.subList(2, floor.steps.size())) {
      double klTerm = m.loss() - m.terms().get("recon");
      assertTrue(
          klTerm >= 4 * 5 - 1e-3,
          "4 dimensions × 5 nats at least, got " + klTerm + " at step " + m.step());
    }
    assertEquals(List.of("freeBits"), floor.settings.stream().map(SettingChange::key).toList());
  }

  @Test
  void aStopRequestEndsTheRunAsStopped(@TempDir Path dir) {
    AtomicReference<Trainer> trainer = new AtomicReference<>();
    TrainingListener stopper =
        new TrainingListener() {
          @Override
          public void onStep(StepMetrics m) {
            if (m.step() == 20) {
              trainer.get().stop();
            }
          }
        };
    trainer.set(newTrainer(job(TINY_VAE), dir, false, stopper));
    RunSummary s = trainer.get().run();
    assertEquals(RunSummary.Status.STOPPED, s.status());
    assertEquals(20, s.steps());
    assertFalse(trainer.get().isPaused());
    assertNotNull(Checkpoint.readProgress(dir), "the first epoch's checkpoint remains");
  }
}
