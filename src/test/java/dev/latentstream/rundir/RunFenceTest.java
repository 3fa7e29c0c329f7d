package dev.latentstream.rundir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.model.Autoencoder;
import dev.latentstream.runformat.MetricsCsv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run directory's fence: a taker raises the token, and a writer that no longer owns the run has
 * its checkpoint and its rows refused as part of the write. The same across processes is {@code
 * server.FailoverFencingTest}.
 */
class RunFenceTest {

  @Test
  void aTakerRaisesTheTokenAboveTheOneOnDiskEvenWhenItsOwnIsLower(@TempDir Path dir) {
    RunFence.Owner a = RunFence.take(dir, 5, "id-a", "127.0.0.1:5701");
    assertEquals(5, a.token());
    // The cluster's counter started again (the whole cluster restarted): still above the disk.
    RunFence.Owner b = RunFence.take(dir, 2, "id-b", "127.0.0.1:5702");
    assertEquals(6, b.token());
    assertEquals(b, RunFence.owner(dir));
    assertEquals(b, RunFence.take(dir, 2, "id-b", "127.0.0.1:5702"), "taking again keeps it");
  }

  @Test
  void aStaleOwnersWriteIsRefusedAndNotMadeTheOwnersIs(@TempDir Path dir) throws Exception {
    RunFence a = RunFence.of(dir, RunFence.take(dir, 1, "id-a", "127.0.0.1:5701"));
    RunFence b = RunFence.of(dir, RunFence.take(dir, 2, "id-b", "127.0.0.1:5702"));
    AtomicBoolean ran = new AtomicBoolean();
    RunFence.Stale e = assertThrows(RunFence.Stale.class, () -> a.commit(() -> ran.set(true)));
    assertFalse(ran.get(), "the stale write was not made");
    assertEquals(b.mine(), e.owner());
    assertTrue(e.getMessage().startsWith("node 127.0.0.1:5702 owns "), e.getMessage());
    b.commit(() -> ran.set(true));
    assertTrue(ran.get());
  }

  @Test
  void aStaleOwnerNeitherReplacesTheCheckpointNorAddsRows(@TempDir Path dir) throws Exception {
    CheckpointTest.train(CheckpointTest.JOB, dir, false);
    byte[] latest = Files.readAllBytes(Checkpoint.file(dir));
    byte[] previous = Files.readAllBytes(Checkpoint.previous(dir));
    RunFence stale = RunFence.of(dir, RunFence.take(dir, 1, "id-a", "a"));
    RunFence.take(dir, 2, "id-b", "b");

    try (Autoencoder model = Checkpoint.loadModel(dir)) {
      assertThrows(
          RunFence.Stale.class,
          () -> new Checkpoint(dir, stale).save(model, List.of(), Checkpoint.readProgress(dir)));
    }
    assertArrayEquals(latest, Files.readAllBytes(Checkpoint.file(dir)), "latest.pt untouched");
    assertArrayEquals(previous, Files.readAllBytes(Checkpoint.previous(dir)), "previous.pt too");
    try (Stream<Path> files = Files.list(Checkpoint.file(dir).getParent())) {
      assertEquals(
          List.of(),
          files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList(),
          "its temporary file is removed");
    }
  }

  @Test
  void aWriterThatLostTheRunAddsNoRows(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve(MetricsCsv.FILE);
    List<String> terms = List.of("loss");
    MetricsCsv stale = new MetricsCsv(csv, RunFence.of(dir, RunFence.take(dir, 1, "id-a", "a")));
    stale.open(terms, 0);
    for (long s = 1; s <= 4; s++) {
      stale.step(s, 1, Map.of("loss", 1.0 / s), 0.1 * s);
    }
    stale.commit();
    RunFence.Owner b = RunFence.take(dir, 2, "id-b", "b");
    byte[] rows = Files.readAllBytes(csv);
    stale.step(5, 1, Map.of("loss", 0.2), 0.5);
    assertThrows(RunFence.Stale.class, stale::commit);
    assertArrayEquals(rows, Files.readAllBytes(csv), "no row added");

    MetricsCsv owner = new MetricsCsv(csv, RunFence.of(dir, b));
    owner.open(terms, 3);
    owner.step(4, 1, Map.of("loss", 0.25), 0.4);
    owner.commit();
    assertEquals(
        List.of(1L, 2L, 3L, 4L),
        MetricsCsv.read(csv).rows().stream().map(MetricsCsv.Row::step).toList());
  }
}
