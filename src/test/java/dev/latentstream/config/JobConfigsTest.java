package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigsTest {

  static String error(String json) {
    return assertThrows(ConfigException.class, () -> JobConfigs.parse(json, "job.json", "x"))
        .getMessage();
  }

  @Test
  void everyPresetLoadsAndNamesItself() throws IOException {
    List<String> required =
        List.of(
            "vae-mnist",
            "vae-fashion",
            "ae-fashion",
            "ae-mse-64",
            "ae-sigmoid-128",
            "dae-fashion",
            "conv-vae-2d-mnist",
            "aae-mnist",
            "beta-vae-fashion");
    try (Stream<Path> files = Files.list(Path.of("config/jobs"))) {
      List<String> names = files.map(JobConfigs::load).map(JobConfig::name).toList();
      assertTrue(names.containsAll(required), "presets present: " + names);
    }
  }

  @Test
  void presetsMatchTheTutorialSetups() {
    JobConfig vae = JobConfigs.load(Path.of("config/jobs/vae-fashion.json"));
    assertEquals(List.of(400), vae.hidden());
    assertEquals(20, vae.latent());
    assertEquals(128, vae.batchSize());
    assertEquals(1e-3, vae.lr());
    JobConfig sigmoid = JobConfigs.load(Path.of("config/jobs/ae-sigmoid-128.json"));
    assertEquals(JobConfig.Activation.sigmoid, sigmoid.activation());
    assertEquals(JobConfig.ReconLoss.mse, sigmoid.loss());
    assertEquals(0.01, sigmoid.lr());
    assertEquals(256, sigmoid.batchSize());
    JobConfig conv = JobConfigs.load(Path.of("config/jobs/conv-vae-2d-mnist.json"));
    assertEquals(JobConfig.OptimizerType.rmsprop, conv.optimizer());
    assertEquals(2, conv.latent());
    assertEquals(4.0, JobConfigs.load(Path.of("config/jobs/beta-vae-fashion.json")).beta());
  }

  @Test
  void defaultsFillEverythingButTheModel() {
    JobConfig c = JobConfigs.parse("{\"model\":\"vae\"}", "job.json", "quick");
    assertEquals("quick", c.name());
    assertEquals("fashion-mnist", c.dataset());
    assertEquals(JobConfig.OptimizerType.adam, c.optimizer());
    assertEquals("auto", c.device());
    assertEquals(List.of(400), c.hidden());
  }

  @Test
  void rejectsAMissingModelNamingTheKey() {
    assertTrue(error("{}").contains("\"model\" is required"));
  }

  @Test
  void rejectsUnknownKeysSoTyposNeverFallBackToDefaults() {
    String m = error("{\"model\":\"vae\",\"learningRate\":0.1}");
    assertTrue(m.contains("job.json") && m.contains("unknown key \"learningRate\""), m);
    assertTrue(error("{\"model\":\"dae\",\"noise\":{\"sigma\":1}}").contains("noise.sigma"));
  }

  @Test
  void rejectsOutOfRangeAndMistypedValuesNamingTheKey() {
    assertTrue(error("{\"model\":\"vae\",\"lr\":-1}").contains("\"lr\" must be a number"));
    assertTrue(error("{\"model\":\"vae\",\"batchSize\":\"big\"}").contains("\"batchSize\""));
    assertTrue(error("{\"model\":\"vae\",\"hidden\":[400,0]}").contains("\"hidden\""));
    assertTrue(error("{\"model\":\"vae\",\"optimizer\":\"sgd\"}").contains("one of adam, rmsprop"));
    assertTrue(error("{\"model\":\"gan\"}").contains("\"model\""));
    assertTrue(error("{\"model\":\"vae\",\"device\":\"tpu\"}").contains("\"device\""));
    assertTrue(error("{\"model\":\"ae\",\"noise\":{\"level\":0.1}}").contains("only to model dae"));
    assertTrue(error("{\"model\":\"vae\",\"name\":\"../x\"}").contains("\"name\""));
  }

  @Test
  void rejectsMalformedJsonWithTheFileName() {
    String m = error("{\"model\": ");
    assertTrue(m.startsWith("job.json: not valid JSON"), m);
  }

  @Test
  void malformedJsonInAJobFileNamesTheLineAndColumn(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "{\n  \"model\": \"vae\",\n  \"latent\": 20,,\n  \"epochs\": 3\n}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigs.load(file));
    assertTrue(
        e.getMessage().startsWith(file + ": not valid JSON at line 3, column 16: "),
        e.getMessage());
    assertTrue(
        error("{\"model\": \"vae\" \"x\"}")
            .startsWith("job.json: not valid JSON at line 1, column 17: "),
        error("{\"model\": \"vae\" \"x\"}"));
  }

  @Test
  void reportsAMissingFileByPath(@TempDir Path dir) {
    Path missing = dir.resolve("nope.json");
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigs.load(missing));
    assertEquals(missing + ": job file not found", e.getMessage());
  }

  @Test
  void roundTripsThroughJson() {
    JobConfig c = JobConfigs.load(Path.of("config/jobs/aae-mnist.json"));
    assertEquals(c, JobConfigs.parse(JobConfigs.toJson(c), "again", "other"));
  }

  @Test
  void integersAreExactAndBoundedNeverConverted() {
    for (String bad : List.of("1.9", "4294967301", "9223372036854775808", "-1", "1e9", "100001")) {
      String message = error("{\"model\":\"vae\",\"epochs\":" + bad + "}");
      assertTrue(message.contains("\"epochs\""), bad + ": " + message);
    }
    assertTrue(error("{\"model\":\"vae\",\"batchSize\":2.5}").contains("\"batchSize\""));
    assertTrue(error("{\"model\":\"vae\",\"hidden\":[4294967301]}").contains("\"hidden\""));
    assertTrue(error("{\"model\":\"vae\",\"threads\":1024}").contains("\"threads\""));
    assertTrue(error("{\"model\":\"vae\",\"device\":\"cuda:99999\"}").contains("\"device\""));
  }

  @Test
  void anEpochsOverrideFollowsTheSpecsRule() {
    JobConfig vae = JobConfigs.parse("{\"model\":\"vae\"}", "job.json", "x");
    assertEquals(100_000, vae.withEpochs(100_000).epochs());
    for (int bad : new int[] {0, -5, 100_001, 1_000_000_000, Integer.MAX_VALUE}) {
      String message = assertThrows(ConfigException.class, () -> vae.withEpochs(bad)).getMessage();
      assertTrue(message.contains("\"epochs\"") && message.contains("100000"), message);
    }
  }

  @Test
  void liveSettingsHaveTheSpecsBoundsAndNameTheKey() {
    JobConfig vae = JobConfigs.parse("{\"model\":\"vae\"}", "job.json", "x");
    JobConfig dae =
        JobConfigs.parse("{\"model\":\"dae\",\"noise\":{\"kind\":\"mask\"}}", "job.json", "x");
    JobConfigs.checkLiveSetting(vae, "lr", 1e-12);
    JobConfigs.checkLiveSetting(vae, "freeBits", 0);
    JobConfigs.checkLiveSetting(vae, "klWarmupSteps", 5000);
    JobConfigs.checkLiveSetting(dae, "noise", 0.9);
    JobConfigs.checkLiveSetting(dae, "frameEverySteps", 0);
    record Bad(JobConfig job, String key, double value) {}
    for (Bad b :
        List.of(
            new Bad(vae, "lr", 5e-324),
            new Bad(vae, "lr", 0),
            new Bad(vae, "lr", 11),
            new Bad(vae, "lr", Double.NaN),
            new Bad(vae, "beta", -1),
            new Bad(vae, "freeBits", -0.1),
            new Bad(vae, "klWarmupSteps", 1.5),
            new Bad(vae, "klWarmupSteps", -1),
            new Bad(dae, "noise", 1.5),
            new Bad(dae, "beta", 1),
            new Bad(dae, "freeBits", 1),
            new Bad(vae, "noise", 0.1),
            new Bad(vae, "frameEverySteps", 2.5),
            new Bad(vae, "frameEverySteps", 1e7),
            new Bad(vae, "epochs", 3))) {
      String message =
          assertThrows(
                  ConfigException.class,
                  () -> JobConfigs.checkLiveSetting(b.job(), b.key(), b.value()),
                  b.toString())
              .getMessage();
      assertTrue(message.contains("\"" + b.key() + "\""), b + ": " + message);
    }
    String floor =
        assertThrows(ConfigException.class, () -> JobConfigs.checkLiveSetting(vae, "lr", 5e-324))
            .getMessage();
    assertTrue(floor.contains("1.0E-12") || floor.contains("1e-12"), floor);
  }

  @Test
  void engineDefaultsToAutoOrTheServersDefaultAndAnExplicitOneWins() {
    assertEquals(
        JobConfig.Engine.AUTO, JobConfigs.parse("{\"model\":\"vae\"}", "job.json", "x").engine());
    var none = JobConfigs.JSON.createObjectNode().put("model", "vae");
    assertEquals(
        JobConfig.Engine.LIBTORCH,
        JobConfigs.fromJson(none, "spec", "x", JobConfig.Engine.LIBTORCH).engine());
    var named = JobConfigs.JSON.createObjectNode().put("model", "vae").put("engine", "native");
    assertEquals(
        JobConfig.Engine.NATIVE,
        JobConfigs.fromJson(named, "spec", "x", JobConfig.Engine.LIBTORCH).engine());
    // Written as its wire name, and read back the same.
    JobConfig c = JobConfigs.parse("{\"model\":\"vae\",\"engine\":\"LibTorch\"}", "job.json", "x");
    assertTrue(JobConfigs.toJson(c).contains("\"engine\" : \"libtorch\""), JobConfigs.toJson(c));
    assertEquals(c, JobConfigs.parse(JobConfigs.toJson(c), "job.json", "x"));
  }

  @Test
  void rejectsAnUnknownEngineNamingTheKeyAndTheChoices() {
    String e = error("{\"model\":\"vae\",\"engine\":\"cuda\"}");
    assertTrue(
        e.startsWith("job.json: \"engine\" must be libtorch, native or auto, got \"cuda\""), e);
    assertTrue(error("{\"model\":\"vae\",\"engine\":3}").contains("\"engine\" must be a string"));
  }
}
