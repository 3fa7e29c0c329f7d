package dev.latentstream.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.rundir.Checkpoint;
import dev.latentstream.rundir.RunStatus;
import dev.latentstream.runformat.MetricsCsv;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runs directory on a disk that fills up (a tmpfs of the test's own): training fails with one
 * clear reason naming the disk, never the process; the last whole checkpoint and the one before
 * stay readable; no file is left half-written or temporary; a server keeps serving and its other
 * jobs keep their state; and once space returns the run resumes from its last whole checkpoint,
 * with every step in metrics.csv once.
 */
class FullDiskTest {

  /**
   * Wide enough that a checkpoint (about 5 MB with Adam's state) is far larger than an epoch's
   * other files.
   */
  static final int HIDDEN = 256;

  @Test
  void headlessTrainEndsWithOneLineNamingTheDiskAndResumesWhenSpaceReturns(@TempDir Path root)
      throws Exception {
    Files.writeString(
        root.resolve("job.json"),
        "{\"model\":\"vae\",\"dataset\":\"synthetic\",\"hidden\":["
            + HIDDEN
            + "],\"latent\":2,\"batchSize\":100,\"epochs\":2,\"threads\":1,\"iwaeSamples\":0}");
    try (Tmpfs disk = Tmpfs.mount(root.resolve("disk"), 40)) {
      Path run = disk.dir.resolve("run");
      String out = root.relativize(run).toString();
      assertExit(
          0, ServeProcess.start(root, "train", "--job", "job.json", "--out", out, "--plain"));
      byte[] latest = Files.readAllBytes(Checkpoint.file(run));
      byte[] previous = Files.readAllBytes(run.resolve("checkpoint/previous.pt"));

      // Room for an epoch's metrics, images and status twice over, never for a checkpoint.
      long epochFiles = 0;
      try (Stream<Path> files = Files.list(run)) {
        for (Path f :
            files.filter(f -> !f.getFileName().toString().matches(".*-1\\.png")).toList()) {
          epochFiles += Files.isRegularFile(f) ? Files.size(f) : 0;
        }
      }
      long leave = 2 * epochFiles + (256 << 10);
      assertTrue(
          leave < latest.length,
          "the test's premise: " + leave + " bytes free hold no checkpoint of " + latest.length);
      disk.fill(leave);

      ServeProcess full =
          ServeProcess.start(root, "train", "--resume", "--epochs", "4", "--out", out, "--plain");
      assertExit(1, full);
      assertEquals(1, full.err().size(), () -> "one line: " + full.err());
      String line = full.err().getFirst();
      assertTrue(
          line.startsWith(
              "latentstream: training failed at step 180: no space left on device: cannot write "
                  + run.resolve("checkpoint/latest.pt").toString().replace(root + "/", "")
                  + " (disk "
                  + disk.dir
                  + ", tmpfs: "),
          line);
      assertTrue(
          line.endsWith(
              "; the last whole checkpoint is kept (checkpoint at step 120, after epoch 2); free space, "
                  + "then resume with: latentstream train --resume --out "
                  + out),
          line);

      assertArrayEquals(latest, Files.readAllBytes(Checkpoint.file(run)), "latest.pt as it was");
      assertArrayEquals(
          previous,
          Files.readAllBytes(run.resolve("checkpoint/previous.pt")),
          "previous.pt as it was");
      assertNull(Checkpoint.readProgress(run).note(), "latest.pt loads");
      assertWhole(run);
      RunStatus status = RunStatus.read(run).orElseThrow();
      assertEquals(RunStatus.FAILED, status.status());
      assertTrue(status.error().startsWith("no space left on device"), status.error());

      disk.unfill();
      ServeProcess again =
          ServeProcess.start(root, "train", "--resume", "--epochs", "4", "--out", out, "--plain");
      assertExit(0, again);
      assertTrue(
          again.out().contains("resuming at step 120 (after epoch 2)"), again.out()::toString);
      assertEquals(
          LongStream.rangeClosed(1, 4 * 60).boxed().toList(), steps(run), "every step once");
      assertWhole(run);
    }
  }

  @Test
  void aServerJobFailsNamingTheDiskWhileTheServerAndItsOtherJobsGoOnAndResumesWhenSpaceReturns(
      @TempDir Path root) throws Exception {
    OpsFixture f = new OpsFixture(root, 1024, 32, 200, HIDDEN);
    Path config = root.resolve("two.json");
    Files.writeString(config, f.config().put("maxConcurrentJobs", 2).encodePrettily());
    HttpClient http = HttpClient.newHttpClient();
    try (Tmpfs disk = Tmpfs.mount(f.runsDir, 48);
        ServeProcess serve =
            ServeProcess.start(root, "serve", "--no-job", "--config", config.toString())) {
      String base = "http://127.0.0.1:" + serve.port();
      String full = send(http, base + "/api/jobs", "{\"preset\":\"tiny\"}", 201).getString("id");
      String other = send(http, base + "/api/jobs", "{\"preset\":\"tiny\"}", 201).getString("id");
      // The other job stands still while the disk fills, paused; it must come through as it was.
      await(http, base, other, j -> j.getLong("step") > 0, 120);
      send(http, base + "/api/jobs/" + other + "/pause", "", 200);
      // Epoch 3's results come after epoch 2's checkpoint: latest.pt and previous.pt both exist.
      await(http, base, full, j -> j.getInteger("epoch") >= 3, 180);

      disk.fill(1 << 20);
      JsonObject failed =
          await(http, base, full, j -> !"running".equals(j.getString("status")), 180);
      assertEquals("failed", failed.getString("status"), failed::encodePrettily);
      String error = failed.getString("error");
      assertTrue(
          error.startsWith("no space left on device: cannot write " + f.runsDir.resolve(full))
              && error.contains("(disk " + disk.dir + ", tmpfs: "),
          error);

      assertEquals(
          200,
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode(),
          "the server serves on");
      assertEquals(
          "paused", job(http, base, other).getString("status"), "the other job is as it was");
      Path run = f.runsDir.resolve(full);
      Checkpoint.Progress kept = Checkpoint.readProgress(run);
      assertNull(kept.note(), "latest.pt loads");
      Path copy = Files.createDirectories(root.resolve("previous/checkpoint"));
      Files.copy(run.resolve("checkpoint/previous.pt"), copy.resolve("latest.pt"));
      assertTrue(
          Checkpoint.readProgress(copy.getParent()).step() < kept.step(),
          "previous.pt loads, the one before");
      assertWhole(run);

      disk.unfill();
      JsonObject resumed = send(http, base + "/api/jobs/" + full + "/resume", "", 200);
      assertEquals(kept.step(), resumed.getLong("resumedAtStep"), resumed::encodePrettily);
      long past = kept.step() + 40;
      await(http, base, full, j -> j.getLong("step") > past, 180);
      send(http, base + "/api/jobs/" + other + "/resume", "", 200);
      long otherAt = job(http, base, other).getLong("step");
      await(http, base, other, j -> j.getLong("step") > otherAt, 120);
      for (String id : List.of(full, other)) {
        send(http, base + "/api/jobs/" + id + "/stop", "", 200);
        await(http, base, id, j -> "stopped".equals(j.getString("status")), 120);
      }
      List<Long> steps = steps(run);
      assertEquals(
          LongStream.rangeClosed(1, steps.size()).boxed().toList(), steps, "every step once");
      assertWhole(run);
    }
  }

  /** The last 12 bytes of every PNG: its IEND chunk (no data, a fixed CRC). */
  private static final byte[] IEND = {
    0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82
  };

  /**
   * A PNG written to its end (a file cut short by a full disk lacks the closing IEND chunk) that
   * decodes to a picture of the size its header gives.
   */
  static void assertPngWhole(Path p) throws IOException {
    byte[] bytes = Files.readAllBytes(p);
    assertTrue(
        bytes.length > 33 + IEND.length
            && Arrays.equals(bytes, bytes.length - IEND.length, bytes.length, IEND, 0, IEND.length),
        p + " ends with its IEND chunk (" + bytes.length + " bytes)");
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    assertNotNull(img, p + " decodes");
    // IHDR follows the 8-byte signature and its chunk's length and type: width, then height.
    ByteBuffer header = ByteBuffer.wrap(bytes, 16, 8);
    assertEquals(header.getInt(), img.getWidth(), p + ": width");
    assertEquals(header.getInt(), img.getHeight(), p + ": height");
  }

  /**
   * No temporary file, and every file under its final name whole: CSV rows, JSON, images,
   * checkpoints.
   */
  static void assertWhole(Path run) throws IOException {
    try (Stream<Path> s = Files.walk(run)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        String name = p.getFileName().toString();
        assertTrue(!name.contains(".tmp"), "temporary file left: " + p);
        if (name.endsWith(".png")) {
          assertPngWhole(p);
        } else if (name.endsWith(".json")) {
          new JsonObject(Files.readString(p));
        }
      }
    }
    List<String> lines = Files.readAllLines(run.resolve(MetricsCsv.FILE));
    int columns = lines.getFirst().split(",", -1).length;
    for (String l : lines) {
      assertEquals(columns, l.split(",", -1).length, "a whole row: " + l);
    }
  }

  static List<Long> steps(Path run) throws IOException {
    return MetricsCsv.read(run.resolve(MetricsCsv.FILE)).rows().stream()
        .map(MetricsCsv.Row::step)
        .toList();
  }

  static void assertExit(int code, ServeProcess p) throws InterruptedException {
    assertTrue(p.process.waitFor(300, TimeUnit.SECONDS), "did not end");
    p.awaitEnd(30);
    assertEquals(code, p.process.exitValue(), () -> "stdout " + p.out() + " stderr " + p.err());
  }

  static JsonObject send(HttpClient http, String url, String body, int expect) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer ops-test-token-0123")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(expect, r.statusCode(), url + ": " + r.body());
    return new JsonObject(r.body());
  }

  static JsonObject job(HttpClient http, String base, String id) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/api/jobs/" + id)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  static JsonObject await(
      HttpClient http, String base, String id, Predicate<JsonObject> p, long seconds)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      JsonObject j = job(http, base, id);
      if (p.test(j)) {
        return j;
      }
      assertTrue(
          System.nanoTime() < deadline, "not within " + seconds + " s: " + j.encodePrettily());
      Thread.sleep(100);
    }
  }
}
