package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentstream.rundir.RunLock;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server never trains a run that another process holds (a headless {@code train --resume}): the
 * resumed job fails saying who holds it (in one JVM the lock names "this process"), and the run's
 * checkpoint step is unchanged.
 */
@Timeout(180)
class RunLockedElsewhereTest {

  @Test
  void aResumeOfARunLockedByAnotherTrainerFailsNamingItAndTrainsNothing(@TempDir Path root)
      throws Exception {
    TestServer.StoppedRun stopped = TestServer.stoppedAfterFirstEpoch(root, 3);
    String id = stopped.id();
    long stoppedAt = stopped.step();
    Path runDir = root.resolve("runs").resolve(id);
    try (RunLock held = RunLock.acquire(runDir, "latentstream train (the test)");
        TestServer second =
            new TestServer(root, new JsonObject().put("resumeInterrupted", false))) {
      assertEquals(
          200,
          second
              .request(HttpMethod.POST, "/api/jobs/" + id + "/resume", TestServer.TOKEN, null)
              .status());
      TestServer.awaitStatus(second, id, "failed", 60);
      JsonObject job = second.request(HttpMethod.GET, "/api/jobs/" + id, null, null).json();
      assertTrue(job.getString("error", "").contains("is being trained by"), job.encode());
      assertEquals(stoppedAt, job.getLong("step"), "nothing trained: " + job.encode());
    }
  }
}
