package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobAdmissionTest {

  static JobConfig job(String json) {
    return JobConfigs.parse(json, "spec", "test");
  }

  static ServerConfig server(JsonObject json) {
    return ServerConfig.fromJson(json, "test");
  }

  static String refusal(JobAdmission admission, String spec) {
    return assertThrows(ConfigException.class, () -> admission.check(job(spec), true)).getMessage();
  }

  @Test
  void theHugeSpecIsRefusedBeforeAnythingIsAllocated() {
    JobAdmission admission =
        new JobAdmission(server(new JsonObject().put("maxJobBytes", 8L << 30)), 0, 2);
    String message = refusal(admission, JobBudgetTest.HUGE);
    assertTrue(message.contains("8589934592") && message.contains("maxJobBytes"), message);
    admission.check(job("{\"model\":\"vae\",\"dataset\":\"synthetic\"}"), true);
  }

  @Test
  void cudaDevicesBeyondTheCountAreRefused() {
    JobAdmission cpu = new JobAdmission(server(new JsonObject()), 0, 2);
    String message =
        refusal(cpu, "{\"model\":\"vae\",\"dataset\":\"mnist\",\"device\":\"cuda:0\"}");
    assertTrue(message.contains("\"device\"") && message.contains("no CUDA device"), message);
    assertTrue(
        refusal(cpu, "{\"model\":\"vae\",\"dataset\":\"mnist\",\"device\":\"cuda\"}")
            .contains("\"device\""));
    JobAdmission twoGpus = new JobAdmission(server(new JsonObject()), 2, 2);
    twoGpus.check(job("{\"model\":\"vae\",\"dataset\":\"mnist\",\"device\":\"cuda:1\"}"), true);
    message = refusal(twoGpus, "{\"model\":\"vae\",\"dataset\":\"mnist\",\"device\":\"cuda:99\"}");
    assertTrue(message.contains("\"device\"") && message.contains("2 CUDA devices"), message);
    cpu.check(job("{\"model\":\"vae\",\"dataset\":\"mnist\",\"device\":\"cpu\"}"), true);
  }

  @Test
  void threadsAreBoundedByTheCores() {
    JobAdmission twoCores = new JobAdmission(server(new JsonObject()), 0, 2);
    twoCores.check(job("{\"model\":\"vae\",\"dataset\":\"mnist\",\"threads\":8}"), true);
    String message = refusal(twoCores, "{\"model\":\"vae\",\"dataset\":\"mnist\",\"threads\":9}");
    assertTrue(message.contains("\"threads\"") && message.contains("to 8"), message);
  }

  @Test
  void aNetworkSpecReadsOnlyKnownDatasetsOrDirectoriesUnderDataDir(@TempDir Path tmp)
      throws Exception {
    Path dataDir = Files.createDirectories(tmp.resolve("data"));
    Files.createDirectories(dataDir.resolve("mine/digits"));
    Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(dataDir.resolve("escape"), tmp.resolve("outside"));
    JobAdmission admission =
        new JobAdmission(server(new JsonObject().put("dataDir", dataDir.toString())), 0, 2);
    for (String ok :
        new String[] {
          "mnist",
          "fashion-mnist",
          "synthetic",
          "mine",
          "mine/digits",
          dataDir.resolve("mine").toString()
        }) {
      admission.check(job("{\"model\":\"vae\",\"dataset\":\"" + ok + "\"}"), true);
    }
    for (String bad :
        new String[] {
          "/etc",
          "../../x",
          "../outside",
          "escape",
          "mine/../../outside",
          "absent",
          tmp.resolve("outside").toString()
        }) {
      String message = refusal(admission, "{\"model\":\"vae\",\"dataset\":\"" + bad + "\"}");
      assertTrue(
          message.contains("\"dataset\"") && message.contains("allowDatasetPaths"),
          bad + ": " + message);
      assertFalse(
          message.contains(dataDir.toString()),
          "no server path the client did not send: " + message);
    }
  }

  @Test
  void withoutDataDirOnlyKnownNamesPassUnlessPathsAreAllowed() {
    JobAdmission strict = new JobAdmission(server(new JsonObject()), 0, 2);
    String message = refusal(strict, "{\"model\":\"vae\",\"dataset\":\"/etc\"}");
    assertTrue(message.contains("one of mnist, fashion-mnist, synthetic"), message);
    strict.check(job("{\"model\":\"vae\",\"dataset\":\"/etc\"}"), false);
    new JobAdmission(server(new JsonObject().put("allowDatasetPaths", true)), 0, 2)
        .check(job("{\"model\":\"vae\",\"dataset\":\"/srv/digits\"}"), true);
  }
}
