package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentstream.config.JobConfigs;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /api/jobs/{id}/model.safetensors} and {@code model.pt}: the token, ETags, parts, the
 * decoder served from memory, and bad input.
 */
@Timeout(180)
class ModelDownloadTest {

  @TempDir Path root;
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<byte[]> get(TestServer s, String path, String token, String ifNoneMatch)
      throws Exception {
    var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (ifNoneMatch != null) {
      b.header("If-None-Match", ifNoneMatch);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonNode header(byte[] file) throws Exception {
    long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return JobConfigs.JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8).strip());
  }

  private static List<String> tensors(JsonNode header) {
    List<String> names = new ArrayList<>();
    header.fieldNames().forEachRemaining(names::add);
    names.remove("__metadata__");
    return names;
  }

  private static String message(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body(), StandardCharsets.UTF_8))
        .getJsonObject("error")
        .getString("message");
  }

  @Test
  void
      aFinishedJobsModelComesWithTheTokenAsAWholeOrItsDecoderAndAnswers304WhileTheCheckpointStands()
          throws Exception {
    try (TestServer s = new TestServer(root, new JsonObject())) {
      String id = s.startJob(s.spec(2, 0).put("iwaeSamples", 0)).getString("id");
      TestServer.awaitStatus(s, id, "completed", 180);
      String path = "/api/jobs/" + id + "/model.safetensors";
      assertEquals(401, get(s, path, null, null).statusCode(), "the token is needed");
      HttpResponse<byte[]> whole = get(s, path, TestServer.TOKEN, null);
      assertEquals(200, whole.statusCode(), new String(whole.body(), StandardCharsets.UTF_8));
      JsonNode h = header(whole.body());
      assertEquals("32", h.get("__metadata__").get("step").asText(), "2 epochs of 16 steps");
      assertTrue(
          tensors(h).contains("encoder.linear0.weight")
              && tensors(h).contains("decoder.linear1.bias"),
          h.toString());
      String etag = whole.headers().firstValue("ETag").orElseThrow();
      assertEquals("\"32-all\"", etag);

      HttpResponse<byte[]> again = get(s, path, TestServer.TOKEN, etag);
      assertEquals(304, again.statusCode());
      assertEquals(0, again.body().length);

      HttpResponse<byte[]> decoder = get(s, path + "?part=decoder", TestServer.TOKEN, etag);
      assertEquals(200, decoder.statusCode(), "another part has another ETag");
      assertEquals(
          List.of(
              "decoder.linear0.weight",
              "decoder.linear0.bias",
              "decoder.linear1.weight",
              "decoder.linear1.bias"),
          tensors(header(decoder.body())));
      assertEquals("\"32-decoder\"", decoder.headers().firstValue("ETag").orElseThrow());
      // Held in memory once read: the export on disk overwritten (same name and size) does not
      // change what the next download gets.
      Path export =
          root.resolve("runs")
              .resolve(id)
              .resolve(
                  dev.latentstream.runformat.RunLayout.modelFile("decoder", 32, "safetensors"));
      Files.write(export, new byte[(int) Files.size(export)]);
      HttpResponse<byte[]> held = get(s, path + "?part=decoder", TestServer.TOKEN, null);
      assertEquals(200, held.statusCode());
      assertTrue(
          java.util.Arrays.equals(decoder.body(), held.body()), "served from memory, not the disk");

      HttpResponse<byte[]> pt = get(s, "/api/jobs/" + id + "/model.pt", TestServer.TOKEN, null);
      assertEquals(200, pt.statusCode());
      assertEquals('P', pt.body()[0]);
      assertEquals('K', pt.body()[1]);

      HttpResponse<byte[]> badPart = get(s, path + "?part=encoder", TestServer.TOKEN, null);
      assertEquals(400, badPart.statusCode());
      assertTrue(message(badPart).contains("unknown part"), message(badPart));
      assertEquals(
          404, get(s, "/api/jobs/nope/model.safetensors", TestServer.TOKEN, null).statusCode());
      assertEquals(
          404, get(s, "/api/jobs/" + id + "/model.onnx", TestServer.TOKEN, null).statusCode());

      // A damaged checkpoint (and no previous one to fall back to) is a conflict, and the server
      // keeps serving.
      Path checkpoint = root.resolve("runs").resolve(id).resolve("checkpoint");
      Files.deleteIfExists(checkpoint.resolve("previous.pt"));
      Files.writeString(checkpoint.resolve("latest.pt"), "damaged");
      HttpResponse<byte[]> corrupt = get(s, path, TestServer.TOKEN, null);
      assertEquals(409, corrupt.statusCode(), new String(corrupt.body(), StandardCharsets.UTF_8));
      assertTrue(message(corrupt).contains("cannot export"), message(corrupt));
      assertEquals(200, s.request(HttpMethod.GET, "/api/jobs", null, null).status());
    }
  }

  @Test
  void openModelDownloadsNeedNoTokenAndARunWithoutCheckpointIs404() throws Exception {
    Path past = root.resolve("runs").resolve("no-checkpoint");
    Files.createDirectories(past);
    Files.writeString(
        past.resolve("job.json"), "{\"model\": \"vae\", \"hidden\": [16], \"latent\": 2}");
    try (TestServer s = new TestServer(root, new JsonObject().put("openModelDownloads", true))) {
      HttpResponse<byte[]> none = get(s, "/api/jobs/no-checkpoint/model.safetensors", null, null);
      assertEquals(404, none.statusCode(), new String(none.body(), StandardCharsets.UTF_8));
      assertTrue(message(none).contains("no checkpoint"), message(none));
      String id = s.startJob(s.spec(1, 0).put("iwaeSamples", 0)).getString("id");
      TestServer.awaitStatus(s, id, "completed", 180);
      assertEquals(200, get(s, "/api/jobs/" + id + "/model.pt", null, null).statusCode());
      assertEquals(
          401,
          s.request(HttpMethod.GET, "/api/jobs/" + id + "/checkpoint", null, null).status(),
          "the checkpoint itself still needs the token");
    }
  }
}
