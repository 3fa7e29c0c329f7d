package dev.latentstream.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstallTest {

  @AfterEach
  void noInstall() {
    System.clearProperty(Install.HOME_PROPERTY);
  }

  @Test
  void aRelativePathMissingHereIsTakenFromTheInstall(@TempDir Path home) throws Exception {
    Files.createDirectories(home.resolve("config/elsewhere-only"));
    Files.writeString(home.resolve("config/elsewhere-only/x.json"), "{\"model\":\"ae\"}");
    Path relative = Path.of("config/elsewhere-only/x.json");
    assertEquals(relative, Install.resolve(relative), "no install: unchanged");
    System.setProperty(Install.HOME_PROPERTY, home.toString());
    assertEquals(home.resolve(relative), Install.resolve(relative));
    assertEquals("x", JobConfigs.load(relative).name(), "job files are found the same way");
  }

  @Test
  void theWorkingDirectorysOwnConfigWins(@TempDir Path home) throws Exception {
    Files.createDirectories(home.resolve("config/jobs"));
    System.setProperty(Install.HOME_PROPERTY, home.toString());
    assertEquals(
        Path.of("config/jobs"),
        Install.resolve(Path.of("config/jobs")),
        "this checkout has config/jobs");
    assertEquals(
        Path.of("config/jobs"),
        ServerConfig.fromJson(new io.vertx.core.json.JsonObject(), "test").jobsDir());
    Path absolute = home.resolve("nowhere");
    assertEquals(absolute, Install.resolve(absolute), "absolute paths are left alone");
  }

  @Test
  void aPathMissingEverywhereStaysAsGivenForTheErrorMessage(@TempDir Path home) {
    System.setProperty(Install.HOME_PROPERTY, home.toString());
    assertEquals(Path.of("config/none.json"), Install.resolve(Path.of("config/none.json")));
  }
}
