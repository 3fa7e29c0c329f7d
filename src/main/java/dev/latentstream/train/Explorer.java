package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import dev.latentstream.data.Dataset;
import dev.latentstream.data.Split;
import dev.latentstream.explore.LatentGeometry;
import dev.latentstream.explore.LiveModel;
import dev.latentstream.explore.LiveView;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.Models;
import dev.latentstream.model.TensorData;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * A finished or stopped run's model, brought back from its checkpoint so that decode, encode,
 * interpolate and attribute work after training, as they do during it. It lives on a thread of its
 * own, which builds the model, loads the weights, scans the test set for the latent plane and then
 * answers {@link #submit}ted requests, rationed by the same {@link Mailbox} budget as a trainer's,
 * until {@link #close}. That thread owns every tensor and frees them when it ends; other threads
 * only post.
 */
public final class Explorer implements AutoCloseable {

  private final Mailbox mailbox;
  private final Thread thread;

  /** Why the model could not be brought back; null while it loads or serves. */
  private volatile String failure;

  /** Set by its thread when it ends: closed, or the model could not be loaded. */
  private volatile boolean ended;

  private Explorer(
      JobConfig job,
      Supplier<Dataset> data,
      CheckpointStore checkpoint,
      int maxQueued,
      int msPerSecond,
      String name) {
    LiveView live = new LiveView(null); // its data set loads on the explorer's thread
    this.mailbox = new Mailbox(live);
    mailbox.setBudget(maxQueued, msPerSecond);
    mailbox.pause(); // it never trains: service() only runs requests, until close()
    this.thread =
        Thread.ofPlatform()
            .name("explore-" + name)
            .daemon(true)
            .start(() -> serve(job, data, checkpoint, live));
  }

  /**
   * Starts bringing back the model of {@code job} from {@code checkpoint}, on a thread that first
   * gets the data set from {@code data} (which may read the disk); requests submitted meanwhile
   * wait for it, and fail with "the run has ended" if it cannot be loaded.
   */
  public static Explorer open(
      JobConfig job,
      Supplier<Dataset> data,
      CheckpointStore checkpoint,
      int maxQueued,
      int msPerSecond,
      String name) {
    return new Explorer(job, data, checkpoint, maxQueued, msPerSecond, name);
  }

  private void serve(
      JobConfig job, Supplier<Dataset> dataset, CheckpointStore checkpoint, LiveView live) {
    Autoencoder model = null;
    Tensor testImages = null;
    try {
      Dataset data = dataset.get();
      Device device = Devices.resolve(job.device());
      Split test = data.test();
      model = Models.create(job, test.rows(), test.cols());
      model.to(device, false);
      checkpoint.load(model, List.of());
      model.eval();
      live.attach(data, model, device);
      int count = Math.min(LatentGeometry.SCAN_COUNT, test.count());
      testImages = TensorData.unitImages(test, 0, count, device);
      live.update(
          scan(
              model,
              testImages,
              test,
              count,
              job.latent(),
              Math.max(data.classNames().size(), maxLabel(test, count) + 1)));
      while (mailbox.service(c -> {})) {
        // requests run inside service(); a stop (close) ends the loop
      }
    } catch (RuntimeException e) {
      failure = String.valueOf(e.getMessage());
      System.getLogger(Explorer.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "cannot bring back the model of "
                  + thread.getName().substring("explore-".length())
                  + ": "
                  + e.getMessage());
    } finally {
      ended = true;
      mailbox.close();
      if (testImages != null) {
        testImages.close();
      }
      if (model != null) {
        model.close();
      }
    }
  }

  /** The latent plane of the first test images, as a trainer scans them between steps. */
  private static LatentGeometry scan(
      Autoencoder model, Tensor images, Split test, int count, int d, int classes) {
    float[] codes = TestScan.run(model, images, count, x -> TestScan.encode(model, x)).codes();
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = test.label(i);
    }
    return new LatentGeometry(codes, labels, count, d, classes);
  }

  private static int maxLabel(Split test, int count) {
    int max = 0;
    for (int i = 0; i < count; i++) {
      max = Math.max(max, test.label(i));
    }
    return max;
  }

  /** As {@link Trainer#submit}: fails at once with a {@link BusyException} beyond the budget. */
  public <T> CompletableFuture<T> submit(Function<LiveModel, T> request) {
    return mailbox.submit(request);
  }

  /** Whether it still answers (false once closed or when the model could not be loaded). */
  public boolean open() {
    return !ended;
  }

  /** Why the model could not be brought back, or null. */
  public String failure() {
    return failure;
  }

  /** Ends its thread, which frees the model; queued requests fail with "the run has ended". */
  @Override
  public void close() {
    mailbox.stop();
  }
}
