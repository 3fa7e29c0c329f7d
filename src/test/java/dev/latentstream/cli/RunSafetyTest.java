package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.rundir.RunStatus;
import dev.latentstream.runformat.MetricsCsv;
import dev.latentstream.server.TestServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Headless {@code train} as a process never destroys a run: it refuses to write over one, a resume
 * with nothing left to train changes nothing, a second process on a run is refused, and a signal
 * stops a run cleanly at a step it resumes from exactly.
 */
class RunSafetyTest {

  @TempDir static Path work;

  /** A finished one-epoch run, shared by the tests that must leave it as it is. */
  static Path finished;

  static String job(int epochs) {
    // One thread, so an interrupted and resumed run takes the very steps an uninterrupted one does.
    return "{\"model\":\"vae\",\"dataset\":\"synthetic\",\"hidden\":[64],\"latent\":2,\"batchSize\":100,\"epochs\":"
        + epochs
        + ",\"threads\":1,\"iwaeSamples\":0}";
  }

  @BeforeAll
  static void trainOneRun() throws Exception {
    Files.writeString(work.resolve("job.json"), job(1));
    finished = work.resolve("runs/finished");
    CliProcess p =
        CliProcess.run(work, "train", "--job", "job.json", "--out", "runs/finished", "--plain");
    assertEquals(0, p.exit(), p.toString());
  }

  /** Every regular file under {@code dir}, by relative path, with its bytes. */
  static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> all = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        all.put(dir.relativize(f).toString(), Files.readAllBytes(f));
      }
    }
    return all;
  }

  static void assertSameFiles(Map<String, byte[]> before, Map<String, byte[]> after) {
    assertEquals(before.keySet(), after.keySet(), "the same files");
    before.forEach(
        (name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " byte for byte"));
  }

  static List<String> temporaries(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(f -> f.getFileName().toString()).filter(n -> n.contains(".tmp")).toList();
    }
  }

  @Test
  void trainOutOntoAnotherRunRefusesWithOneLineAndLeavesEveryFileByteIdentical() throws Exception {
    Map<String, byte[]> before = files(finished);
    CliProcess p =
        CliProcess.run(work, "train", "--job", "job.json", "--out", "runs/finished", "--plain");
    assertEquals(2, p.exit(), p.toString());
    assertEquals(
        List.of(
            "latentstream: --out runs/finished holds a run; continue it with --resume --out runs/finished, "
                + "or pass a new or empty directory"),
        p.err());
    assertSameFiles(before, files(finished));

    Path notARun = Files.createDirectories(work.resolve("notes"));
    Files.writeString(notARun.resolve("todo.txt"), "mine");
    CliProcess q = CliProcess.run(work, "train", "--job", "job.json", "--out", "notes", "--plain");
    assertEquals(2, q.exit(), q.toString());
    assertEquals(
        List.of("latentstream: --out notes is not empty; pass a new or empty directory"), q.err());
    assertEquals(
        List.of("todo.txt"), Arrays.asList(notARun.toFile().list()), "nothing written into it");
  }

  @Test
  void resumingAFinishedRunChangesNothingAndSaysHowToContinue() throws Exception {
    Map<String, byte[]> before = files(finished);
    for (List<String> epochs : List.of(List.<String>of(), List.of("--epochs", "1"))) {
      List<String> args =
          new ArrayList<>(List.of("train", "--resume", "--out", "runs/finished", "--plain"));
      args.addAll(epochs);
      CliProcess p = CliProcess.run(work, args.toArray(String[]::new));
      assertEquals(0, p.exit(), p.toString());
      assertEquals(
          List.of("runs/finished: already trained 1 epochs; pass --epochs M > 1 to continue"),
          p.out());
      assertEquals(List.of(), p.err());
      assertSameFiles(before, files(finished));
    }
  }

  @Test
  void aDefaultRunDirectoryThatIsTakenGetsASuffix() throws Exception {
    Path cwd = Files.createDirectories(work.resolve("defaults"));
    Files.writeString(cwd.resolve("job.json"), job(1));
    // Every name the run could take in the next minutes is taken already, as by runs started in
    // that second.
    java.time.LocalDateTime now = java.time.LocalDateTime.now();
    java.time.format.DateTimeFormatter f =
        java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    for (int s = 0; s < 300; s++) {
      Files.writeString(
          Files.createDirectories(cwd.resolve("runs/job-" + now.plusSeconds(s).format(f)))
              .resolve("job.json"),
          "another run's");
    }
    Map<String, byte[]> before = files(cwd.resolve("runs"));
    CliProcess p = CliProcess.run(cwd, "train", "--job", "job.json", "--plain");
    assertEquals(0, p.exit(), p.toString());
    String dir = p.out().getLast().replaceAll(".* run in ", "");
    assertTrue(dir.matches("runs/job-\\d{8}-\\d{6}-2"), dir);
    assertEquals(
        1 + 60,
        Files.readAllLines(cwd.resolve(dir).resolve(MetricsCsv.FILE)).size(),
        dir + " holds the run");
    Map<String, byte[]> after = files(cwd.resolve("runs"));
    after.keySet().removeIf(name -> name.startsWith(Path.of(dir).getFileName() + "/"));
    assertSameFiles(before, after);
  }

  @Test
  void aSecondProcessOnARunIsRefusedWhileTheFirstTrainsIt() throws Exception {
    Path run = work.resolve("runs/locked");
    assertEquals(
        0,
        CliProcess.run(work, "train", "--job", "job.json", "--out", "runs/locked", "--plain")
            .exit());
    try (CliProcess first =
        CliProcess.start(
            work, "train", "--resume", "--epochs", "200", "--out", "runs/locked", "--plain")) {
      first.awaitLine(l -> l.startsWith("resuming at step"), 120);
      CliProcess second =
          CliProcess.run(
              work, "train", "--resume", "--epochs", "300", "--out", "runs/locked", "--plain");
      assertEquals(2, second.exit(), second.toString());
      assertEquals(1, second.err().size(), second.toString());
      assertTrue(
          second
              .err()
              .getFirst()
              .startsWith(
                  "latentstream: runs/locked is being trained by pid "
                      + first.process.pid()
                      + ", latentstream train, since "),
          second.err().getFirst());

      // A service manager's stop: checkpointed at the step, 143, the same one line as Ctrl-C.
      first.signal("TERM");
      assertTrue(first.process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
      first.awaitEnd(30);
      assertEquals(143, first.exit(), first.toString());
      assertEquals(1, first.err().size(), first.toString());
      assertTrue(
          first.err().getFirst().startsWith("latentstream: stopped at step "), first.toString());
    }
    assertEquals(List.of(), temporaries(run));
    assertEquals(RunStatus.STOPPED, RunStatus.read(run).orElseThrow().status());
  }

  private static List<MetricsCsv.Row> wholeRun;

  /** The rows of an uninterrupted four-epoch run, trained once for the tests that compare. */
  static synchronized List<MetricsCsv.Row> wholeRun() throws Exception {
    if (wholeRun == null) {
      Files.writeString(work.resolve("four.json"), job(4));
      CliProcess whole =
          CliProcess.run(work, "train", "--job", "four.json", "--out", "runs/whole", "--plain");
      assertEquals(0, whole.exit(), whole.toString());
      wholeRun = MetricsCsv.read(work.resolve("runs/whole").resolve(MetricsCsv.FILE)).rows();
    }
    return wholeRun;
  }

  /** {@code actual} holds each of the whole run's steps once, each as the whole run took it. */
  static void assertSameSteps(List<MetricsCsv.Row> expected, List<MetricsCsv.Row> actual) {
    assertEquals(
        expected.stream().map(MetricsCsv.Row::step).toList(),
        actual.stream().map(MetricsCsv.Row::step).toList(),
        "every step once");
    for (int i = 0; i < expected.size(); i++) {
      Map<String, String> e = new TreeMap<>(expected.get(i).cells());
      Map<String, String> a = new TreeMap<>(actual.get(i).cells());
      e.remove("seconds");
      a.remove("seconds");
      assertEquals(e, a, "step " + (i + 1) + " as the uninterrupted run took it");
    }
  }

  @Test
  void aKill9MidEpochResumesExactlyThoughMetricsEndsInATornRow() throws Exception {
    List<MetricsCsv.Row> expected = wholeRun();
    Path run = work.resolve("runs/killed");
    Path csv = run.resolve(MetricsCsv.FILE);
    try (CliProcess killed =
        CliProcess.start(work, "train", "--job", "four.json", "--out", "runs/killed", "--plain")) {
      killed.awaitLine(l -> l.startsWith("epoch 1/4"), 120);
      // Into epoch 2, with rows on the disk past the checkpoint of epoch 1.
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
      while (MetricsCsv.read(csv).rows().size() < 70 && killed.process.isAlive()) {
        assertTrue(System.nanoTime() < deadline, "no rows of epoch 2 within 120 s: " + killed);
        Thread.sleep(20);
      }
      assertTrue(killed.process.isAlive(), "killed while training: " + killed);
      killed.process.destroyForcibly(); // SIGKILL: no shutdown hook, no checkpoint, no status
      assertTrue(killed.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(137, killed.exit(), killed.toString());
    }
    List<MetricsCsv.Row> left = MetricsCsv.read(csv).rows();
    long lastWhole = left.getLast().step();
    assertTrue(lastWhole > 60 && lastWhole < 240, "killed inside epoch 2..4 at " + lastWhole);
    // A kill in the middle of a write leaves the row being written cut short: the next row, torn
    // in its loss cells, with no newline.
    String text = Files.readString(csv);
    if (!text.endsWith("\n")) {
      text = text.substring(0, text.lastIndexOf('\n') + 1);
    }
    String next = lastWhole + 1 + "," + expected.get((int) lastWhole).epoch() + ",12.3456,0.0";
    Files.writeString(csv, text + next);

    CliProcess resumed =
        CliProcess.run(work, "train", "--resume", "--out", "runs/killed", "--plain");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertTrue(
        resumed.out().stream().anyMatch(l -> l.startsWith("resuming at step ")),
        resumed.toString());
    assertSameSteps(expected, MetricsCsv.read(csv).rows());
    assertTrue(Files.readString(csv).endsWith("\n"), "no torn row left");
    assertEquals(RunStatus.COMPLETED, RunStatus.read(run).orElseThrow().status());
    assertEquals(List.of(), temporaries(run));
  }

  @Test
  void ctrlCCheckpointsWithOneLineAndTheResumedRunTakesTheSameSteps() throws Exception {
    List<MetricsCsv.Row> expected = wholeRun();

    Path run = work.resolve("runs/cut");
    long stoppedAt;
    try (CliProcess cut =
        CliProcess.start(work, "train", "--job", "four.json", "--out", "runs/cut", "--plain")) {
      cut.awaitLine(l -> l.startsWith("epoch 1/4"), 120);
      cut.signal("INT");
      assertTrue(cut.process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
      cut.awaitEnd(30);
      assertEquals(130, cut.exit(), cut.toString());
      assertEquals(1, cut.err().size(), "one line: " + cut);
      String line = cut.err().getFirst();
      assertTrue(
          line.matches(
              "latentstream: stopped at step \\d+ \\(checkpoint at step \\d+, .*\\); resume with: "
                  + "latentstream train --resume --out runs/cut"),
          line);
      stoppedAt = Long.parseLong(line.replaceAll("^latentstream: stopped at step (\\d+) .*", "$1"));
      assertTrue(
          stoppedAt >= 60 && stoppedAt < 240, "stopped inside the run, after epoch 1: " + line);
      assertFalse(cut.out().stream().anyMatch(l -> l.startsWith("completed")), cut.toString());
    }
    assertEquals(List.of(), temporaries(run), "no temporary file left");
    RunStatus status = RunStatus.read(run).orElseThrow();
    // The user stopped it: stopped (not interrupted, which a server resumes on its own).
    assertEquals(RunStatus.STOPPED, status.status());
    assertEquals(stoppedAt, status.step());
    Map<String, byte[]> stopped = files(run);
    // A server started on the runs directory, resuming interrupted runs: it lists this one as
    // stopped at its step and leaves it for the user's --resume.
    try (TestServer server =
        new TestServer(work, new JsonObject().put("resumeInterrupted", true))) {
      JsonObject listed = server.request(HttpMethod.GET, "/api/jobs/cut", null, null).json();
      assertEquals("stopped", listed.getString("status"), listed.encode());
      assertEquals(stoppedAt, listed.getLong("step"), listed.encode());
    }
    Map<String, byte[]> after = files(run);
    after.remove("identity.json"); // the number the server gave the run, kept for the next one
    assertSameFiles(stopped, after);

    CliProcess resumed = CliProcess.run(work, "train", "--resume", "--out", "runs/cut", "--plain");
    assertEquals(0, resumed.exit(), resumed.toString());
    assertTrue(
        resumed
            .out()
            .contains(
                "resuming at step "
                    + stoppedAt
                    + (stoppedAt % 60 == 0
                        ? " (after epoch " + stoppedAt / 60 + ")"
                        : " (epoch "
                            + (stoppedAt / 60 + 1)
                            + ", after batch "
                            + stoppedAt % 60
                            + ")")),
        resumed.toString());

    List<MetricsCsv.Row> actual = MetricsCsv.read(run.resolve(MetricsCsv.FILE)).rows();
    assertEquals(4 * 60, actual.size(), "every step once");
    assertSameSteps(expected, actual);
    assertEquals(RunStatus.COMPLETED, RunStatus.read(run).orElseThrow().status());
  }

  /**
   * CPU seconds the process has used so far, user and system (/proc/PID/stat, 100 ticks a second).
   */
  static double cpuSeconds(Process p) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
    // Fields after the command's closing parenthesis start at the state (field 3), so utime (14)
    // and stime (15) are the 12th and 13th.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  @Test
  void aSecondCtrlCQuitsAtOnceWithoutWaitingForTheStepToEnd() throws Exception {
    // One step of many CPU seconds (a wide model, the whole set in one batch, one thread): the
    // graceful stop that the first signal asks for waits for the step to end, so the second lands
    // while it waits.
    Files.writeString(
        work.resolve("slow.json"),
        "{\"model\":\"vae\",\"dataset\":\"synthetic\",\"hidden\":[3072,3072],\"latent\":2,"
            + "\"batchSize\":6000,\"epochs\":5,\"threads\":1,\"iwaeSamples\":0}");
    try (CliProcess p =
        CliProcess.start(work, "train", "--job", "slow.json", "--out", "runs/slow", "--plain")) {
      p.awaitLine(l -> l.startsWith("training "), 120);
      // Inside the first step: the trainer has spent a CPU second since it started (on a loaded
      // machine that is many wall seconds).
      double started = cpuSeconds(p.process);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (cpuSeconds(p.process) < started + 1) {
        assertTrue(System.nanoTime() < end, "no CPU second within 120 s: " + p);
        Thread.sleep(50);
      }
      p.signal("INT");
      Thread.sleep(1000);
      p.signal("INT");
      assertTrue(p.process.waitFor(10, TimeUnit.SECONDS), "quit within 10 s: " + p);
      p.awaitEnd(10);
      assertEquals(130, p.exit(), p.toString());
      assertTrue(
          p.err().contains("latentstream: second SIGINT, quitting without waiting"), p.toString());
      assertFalse(
          p.err().stream().anyMatch(l -> l.contains("stopped at step")),
          "it did not wait to checkpoint the step: " + p);
    }
    // What it had written stays whole: the job file it started from reads back.
    assertEquals(
        List.of(3072, 3072),
        dev.latentstream.config.JobConfigs.load(work.resolve("runs/slow/job.json")).hidden());
  }
}
