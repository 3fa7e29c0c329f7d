package dev.latentstream.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A gateway reads a run file from trainer nodes faked on the event bus: node A (the job's owner by
 * its last heartbeat) is cut off and never answers, node B serves the file.
 */
class RemoteRunFilesTest {

  private static final byte[] METRICS =
      "step,epoch,time,recon,kl\n1,0,0,1.0,0.5\n".getBytes(StandardCharsets.UTF_8);

  private RoutesOnOneContext gateway;
  private EventBus bus;
  private final AtomicInteger askedA = new AtomicInteger();
  private final AtomicInteger askedB = new AtomicInteger();

  @BeforeEach
  void start() {
    gateway = new RoutesOnOneContext();
    bus = gateway.vertx.eventBus();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  @Test
  void aChunkTheCutOffNodeLeavesUnansweredIsAskedAgainWhereTheCorrectedRouteSays()
      throws Exception {
    // A is asked first; while its request hangs, B's status (the takeover) reaches the gateway.
    bus.<TrainerCommand>consumer(
        Addresses.toTrainer("node-a"),
        m -> {
          askedA.incrementAndGet();
          bus.publish(
              Addresses.FROM_TRAINER_EVENTS,
              new TrainerEvent.Status(7, RoutesOnOneContext.job("host-b:5701", 1)));
        });
    serveFromB();

    byte[] read =
        gateway
            .onContext(() -> new RemoteRunFiles(gateway.routes).read(7, "metrics.csv", 1 << 20))
            .toCompletionStage()
            .toCompletableFuture()
            // Well inside the event bus's default 30 s reply timeout, which alone would end it.
            .get(2 * RemoteRunFiles.CHUNK_TIMEOUT_MS + 2_000, TimeUnit.MILLISECONDS);

    assertArrayEquals(METRICS, read);
    assertEquals(1, askedA.get(), "the silent node is asked once");
    assertEquals(1, askedB.get(), "then the job's new owner");
  }

  @Test
  void aReadNoNodeAnswersFailsAfterItsAttemptsSayingSo() throws Exception {
    bus.<TrainerCommand>consumer(Addresses.toTrainer("node-a"), m -> askedA.incrementAndGet());

    Future<byte[]> read =
        gateway.onContext(() -> new RemoteRunFiles(gateway.routes).read(7, "metrics.csv", 1024));
    ExecutionException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class,
            () ->
                read.toCompletionStage()
                    .toCompletableFuture()
                    .get(
                        RemoteRunFiles.ATTEMPTS * (RemoteRunFiles.CHUNK_TIMEOUT_MS + 1_000),
                        TimeUnit.MILLISECONDS));

    assertTrue(
        e.getCause().getMessage().contains(RemoteRunFiles.ATTEMPTS + " attempts"),
        e.getCause().getMessage());
    assertEquals(RemoteRunFiles.ATTEMPTS, askedA.get());
  }

  @Test
  void aNodeThatHasNoSuchFileIsNotAskedAgain() throws Exception {
    gateway.status("b", 1);
    bus.<TrainerCommand>consumer(
        Addresses.toTrainer("node-b"),
        m -> {
          askedB.incrementAndGet();
          m.fail(404, "job 7 has no metrics.csv yet");
        });

    byte[] read =
        gateway
            .onContext(() -> new RemoteRunFiles(gateway.routes).read(7, "metrics.csv", 1024))
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);

    assertNull(read);
    assertEquals(1, askedB.get());
  }

  private void serveFromB() {
    bus.<TrainerCommand>consumer(
        Addresses.toTrainer("node-b"),
        m -> {
          askedB.incrementAndGet();
          TrainerCommand.ReadRunFile f = (TrainerCommand.ReadRunFile) m.body();
          int from = (int) Math.min(f.offset(), METRICS.length);
          int to = (int) Math.min(METRICS.length, f.offset() + f.length());
          m.reply(
              new JsonObject()
                  .put("size", METRICS.length)
                  .put("bytes", Arrays.copyOfRange(METRICS, from, to)));
        });
  }
}
