package dev.latentstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.latentstream.data.Datasets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code latentstream datasets fetch|list} as a user runs them, with no internet: the set Debian's
 * {@code dataset-fashion-mnist} installed ({@code .ci/setup} installs it) and loopback HTTP servers
 * as mirrors. (A successful download is {@code DatasetFetcherTest}'s: its toy set has digests of
 * its own.)
 */
class DatasetsCommandTest {

  static final Path SYSTEM = Datasets.SYSTEM_DIR.resolve("fashion-mnist");

  @TempDir Path tmp;
  HttpServer server;
  String mirror;

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/fashion/",
        ex -> {
          Path f = SYSTEM.resolve(ex.getRequestURI().getPath().substring("/fashion/".length()));
          if (!f.getParent().equals(SYSTEM) || !Files.isRegularFile(f)) {
            ex.sendResponseHeaders(404, -1);
          } else {
            ex.sendResponseHeaders(200, Files.size(f));
            try (var out = ex.getResponseBody()) {
              Files.copy(f, out);
            }
          }
          ex.close();
        });
    server.createContext(
        "/missing/",
        ex -> {
          ex.sendResponseHeaders(404, -1);
          ex.close();
        });
    server.start();
    mirror = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void fetchFindsThePresentSetAndListShowsItsCountsAndDigests() throws Exception {
    assumeTrue(
        Datasets.complete(SYSTEM), "needs Debian's dataset-fashion-mnist (.ci/setup installs it)");
    Path where = Datasets.find("fashion-mnist", tmp).orElseThrow();
    Result fetch = run("datasets", "fetch", "fashion-mnist", "--data-dir", tmp.toString());
    assertEquals(0, fetch.code(), fetch.err() + fetch.out());
    assertEquals(
        "fashion-mnist is present in "
            + where
            + "\nfashion-mnist ready in "
            + where
            + ": 60000 train / 10000 test images\n",
        fetch.out());

    Result list = run("datasets", "list", "--data-dir", tmp.toString());
    assertEquals(0, list.code(), list.err());
    Path images = where.resolve("train-images-idx3-ubyte.gz");
    String digest =
        java.util.HexFormat.of()
            .formatHex(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(images)));
    assertTrue(list.out().contains("fashion-mnist  " + where + "\n"), list.out());
    assertTrue(
        list.out()
            .matches(
                "(?s).*train-images-idx3-ubyte\\.gz\\s+60000 images\\s+sha256 " + digest + "\n.*"),
        list.out());
    assertTrue(
        list.out().matches("(?s).*t10k-labels-idx1-ubyte\\.gz\\s+10000 labels.*"), list.out());
  }

  @Test
  void aMirrorServingOtherBytesIsRefusedWithBothDigests() {
    assumeTrue(
        Datasets.complete(SYSTEM), "needs Debian's dataset-fashion-mnist (.ci/setup installs it)");
    // Debian recompressed its copy, so its .gz files are not the published ones: a mirror serving
    // them fails
    // the digest check, which is the point here.
    Path data = tmp.resolve("data");
    Result r =
        run(
            "datasets",
            "fetch",
            "fashion-mnist",
            "--data-dir",
            data.toString(),
            "--mirror",
            mirror + "/fashion/");
    assertEquals(2, r.code(), r.out());
    assertTrue(
        r.out()
            .contains(
                "downloading "
                    + mirror
                    + "/fashion/train-images-idx3-ubyte.gz\n  failed: SHA-256 "
                    + "mismatch: expected 3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84, got "),
        r.out());
    assertTrue(r.err().startsWith("latentstream: could not fetch fashion-mnist: "), r.err());
    assertFalse(Files.exists(data.resolve("fashion-mnist/train-images-idx3-ubyte.gz")));
  }

  @Test
  void aFailedFetchSaysWhyForEveryMirrorAndKeepsNothing() throws IOException {
    int closed;
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    Path data = tmp.resolve("data");
    Result r =
        run(
            "datasets",
            "fetch",
            "mnist",
            "--data-dir",
            data.toString(),
            "--mirror",
            mirror + "/missing/",
            "--mirror",
            "http://127.0.0.1:" + closed + "/");
    assertEquals(2, r.code(), r.out());
    assertTrue(
        r.out()
            .contains(
                "downloading "
                    + mirror
                    + "/missing/train-images-idx3-ubyte.gz\n  failed: HTTP 404\n"),
        r.out());
    assertTrue(
        r.out()
            .matches(
                "(?s).*downloading http://127\\.0\\.0\\.1:"
                    + closed
                    + "/train-images-idx3-ubyte\\.gz\n  failed: could not connect.*"),
        r.out());
    assertTrue(
        r.err()
            .startsWith(
                "latentstream: could not fetch mnist: train-images-idx3-ubyte.gz from no mirror: "),
        r.err());
    try (var left = Files.walk(data)) {
      assertEquals(0, left.filter(Files::isRegularFile).count(), "no partial files kept");
    }
  }

  @Test
  void listSaysWhereEachSetIsOrHowToGetIt() {
    Result r = run("datasets", "list", "--data-dir", tmp.toString());
    assertEquals(0, r.code(), r.err());
    for (String name : new String[] {"mnist", "fashion-mnist"}) {
      String head = String.format("%-14s ", name);
      String line =
          r.out()
              .lines()
              .filter(l -> l.startsWith(head))
              .findFirst()
              .orElseThrow(() -> new AssertionError(r.out()));
      var where = Datasets.find(name, tmp);
      assertEquals(
          where
              .map(Path::toString)
              .orElse(
                  "missing (looked in "
                      + Datasets.searchPath(name, tmp)
                      + "); run: latentstream datasets fetch "
                      + name),
          line.substring(head.length()));
    }
  }
}
