package dev.latentstream.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per client message type of the WebSocket protocol, over a real loopback socket against a
 * server training a tiny VAE on synthetic data; the server's unsolicited messages (welcome, status,
 * history, loss, epoch, setting, plane, log, deleted, error) are checked where they arise.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class MessageTypesTest {

  /** The server default of interactiveMaxInFlightPerClient (config/server.json). */
  static final int DEFAULT_IN_FLIGHT = 4;

  @TempDir static Path root;
  static TestServer server;

  /**
   * A job that trains for the whole class (stopped at the end): the live model for interactive
   * requests.
   */
  static JsonObject live;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(root, new JsonObject());
    live = server.startJob(server.spec(100_000, 8));
    TestServer.awaitStatus(server, live.getString("id"), "running", 60);
    // Running is said before the trainer is built (the data set loads first): wait for its steps.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (server
                .request(HttpMethod.GET, "/api/jobs/" + live.getString("id"), null, null)
                .json()
                .getLong("step", 0L)
            < 1
        && System.nanoTime() < end) {
      Thread.sleep(50);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    server.stopJob(live.getString("id"));
    server.close();
  }

  static Future<ProtocolClient> connect(Vertx vertx, boolean withToken) {
    return ProtocolClient.open(
        vertx, server.port(), withToken ? "token=" + TestServer.TOKEN : null);
  }

  /** A client authorised by the token in its URL, with the welcome already received. */
  static Future<ProtocolClient> control(Vertx vertx) {
    return connect(vertx, true)
        .compose(
            c ->
                c.next("welcome")
                    .map(
                        w -> {
                          assertTrue(w.getBoolean("authorized"), w.encode());
                          return c;
                        }));
  }

  static JsonObject msg(String type) {
    return new JsonObject().put("type", type);
  }

  static JsonObject onLive(String type) {
    return msg(type).put("job", live.getString("id"));
  }

  /** Runs {@code test} on a fresh authorised client, closes it, and completes the context. */
  static void withClient(
      Vertx vertx, VertxTestContext ctx, Function<ProtocolClient, Future<?>> test) {
    control(vertx)
        .compose(c -> test.apply(c).eventually(c::close))
        .onComplete(ctx.succeedingThenComplete());
  }

  static void expectError(JsonObject reply, String code) {
    assertEquals("error", reply.getString("type"), reply.encode());
    assertEquals(code, reply.getString("code"), reply.encode());
    assertTrue(reply.getString("message").length() > 5, reply.encode());
  }

  /**
   * Checks a reply is the error {@code code} whose message names each of {@code mentions}, and
   * passes it on.
   */
  static Function<JsonObject, JsonObject> errorReply(String code, String... mentions) {
    return reply -> {
      expectError(reply, code);
      for (String word : mentions) {
        assertTrue(reply.getString("message").contains(word), reply.encode());
      }
      return reply;
    };
  }

  /** The next status message saying job {@code id} is now {@code status}. */
  static Future<JsonObject> nextStatus(ProtocolClient c, String id, String status) {
    return c.next(
        "status",
        s ->
            id.equals(s.getJsonObject("job").getString("id"))
                && status.equals(s.getJsonObject("job").getString("status")));
  }

  /**
   * A square picture of at least the 28×28 image that shows something: its pixels are not all one
   * colour.
   */
  static void assertPng(String base64) {
    java.awt.image.BufferedImage image;
    try {
      image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(base64)));
    } catch (java.io.IOException e) {
      throw new AssertionError("not a PNG", e);
    }
    assertNotNull(image, "not a PNG");
    assertEquals(image.getWidth(), image.getHeight(), "square");
    assertTrue(image.getWidth() >= 28, "at least the image's 28 pixels: " + image.getWidth());
    int first = image.getRGB(0, 0);
    boolean varies = false;
    for (int y = 0; y < image.getHeight() && !varies; y++) {
      for (int x = 0; x < image.getWidth() && !varies; x++) {
        varies = image.getRGB(x, y) != first;
      }
    }
    assertTrue(varies, "the image is one flat colour");
  }

  @Test
  void hello(Vertx vertx, VertxTestContext ctx) {
    Checkpoint welcomed = ctx.checkpoint();
    Checkpoint refused = ctx.checkpoint();
    Checkpoint authorized = ctx.checkpoint();
    connect(vertx, false)
        .compose(
            c ->
                c.next("welcome")
                    .compose(
                        w -> {
                          assertEquals(1, w.getInteger("version"));
                          assertFalse(w.getBoolean("authorized"));
                          assertTrue(
                              w.getJsonArray("jobs").stream()
                                  .anyMatch(
                                      j ->
                                          live.getString("id")
                                              .equals(((JsonObject) j).getString("id"))));
                          welcomed.flag();
                          return c.request(
                              msg("hello").put("version", 1).put("token", "not-the-token"));
                        })
                    .compose(
                        r -> {
                          expectError(r, "unauthorized");
                          return c.request(msg("hello").put("version", 2));
                        })
                    .compose(
                        r -> {
                          expectError(r, "unsupported_version");
                          refused.flag();
                          return c.request(
                              msg("hello").put("version", 1).put("token", TestServer.TOKEN));
                        })
                    .map(
                        r -> {
                          assertEquals("hello", r.getString("type"));
                          assertTrue(r.getBoolean("authorized"));
                          authorized.flag();
                          return r;
                        })
                    .eventually(c::close))
        .onFailure(ctx::failNow);
  }

  @Test
  void subscribe(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("subscribe").put("streams", new JsonArray().add("loss").add("latent")))
                .compose(
                    r -> {
                      assertEquals("subscribed", r.getString("type"), r.encode());
                      assertEquals(
                          new JsonArray().add("loss").add("latent"), r.getJsonArray("streams"));
                      assertEquals(live.getString("id"), r.getJsonObject("job").getString("id"));
                      return c.next("history");
                    })
                .compose(
                    h -> {
                      assertEquals(live.getInteger("num"), h.getInteger("job"));
                      assertEquals(live.getString("id"), h.getString("jobId"));
                      assertTrue(
                          h.getJsonObject("columns").getJsonArray("kl").size() > 0,
                          "the steps so far");
                      return c.next("loss");
                    })
                .compose(
                    loss -> {
                      JsonObject cols = loss.getJsonObject("columns");
                      assertEquals(
                          cols.getJsonArray("step").size(), cols.getJsonArray("loss").size());
                      return c.next("epoch");
                    })
                .compose(
                    epoch -> {
                      assertTrue(epoch.getDouble("test") > 0, epoch.encode());
                      assertTrue(epoch.getJsonObject("train").containsKey("kl"));
                      return c.next("plane");
                    })
                .compose(
                    plane -> {
                      assertEquals(4, plane.getJsonArray("range").size());
                      return c.nextFrame(3);
                    })
                .map(
                    latent -> {
                      assertEquals(3, latent.getByte(1));
                      assertTrue(
                          c.received.stream()
                              .noneMatch(o -> o instanceof Buffer b && b.getByte(1) != 3),
                          "only the subscribed image stream");
                      return latent;
                    }));
  }

  @Test
  void unsubscribe(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("subscribe").put("streams", new JsonArray().add("loss")))
                .compose(r -> c.next("loss"))
                .compose(loss -> c.request(msg("unsubscribe").put("job", live.getInteger("num"))))
                .compose(
                    r -> {
                      assertEquals("unsubscribed", r.getString("type"), r.encode());
                      assertEquals(live.getInteger("num"), r.getInteger("job"));
                      int seen = c.received.size();
                      // A second client, subscribed after the unsubscribe, gets a live batch: one
                      // the first would have got
                      // too. A ping answered after that batch went out flushes anything still on
                      // its way to the first.
                      return control(vertx)
                          .compose(
                              other ->
                                  other
                                      .request(
                                          onLive("subscribe")
                                              .put("streams", new JsonArray().add("loss")))
                                      // Its first loss may be the tail that follows its history;
                                      // the second is a live batch.
                                      .compose(s -> other.next("loss"))
                                      .compose(first -> other.next("loss", j -> j != first))
                                      .compose(batch -> c.request(msg("ping")))
                                      .map(
                                          pong -> {
                                            assertTrue(
                                                c.received.subList(seen, c.received.size()).stream()
                                                    .noneMatch(
                                                        o ->
                                                            o instanceof JsonObject j
                                                                && "loss"
                                                                    .equals(j.getString("type"))),
                                                "no loss after unsubscribing");
                                            return pong;
                                          })
                                      .eventually(other::close));
                    }));
  }

  @Test
  void start(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(msg("start").put("spec", server.spec(1000, 0)).put("epochs", 2))
                .compose(
                    r -> {
                      assertEquals("started", r.getString("type"), r.encode());
                      JsonObject job = r.getJsonObject("result");
                      assertEquals(2, job.getInteger("epochs"), "epochs overrides the spec");
                      return nextStatus(c, job.getString("id"), "running").map(job);
                    })
                .compose(job -> c.request(msg("stop").put("job", job.getString("id"))))
                .compose(r -> c.request(msg("start").put("preset", "no-such-preset")))
                .map(errorReply("bad_request")));
  }

  @Test
  void pause(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("pause"))
                .compose(
                    r -> {
                      assertEquals("paused", r.getString("type"), r.encode());
                      assertEquals("paused", r.getJsonObject("result").getString("status"));
                      return c.request(onLive("pause"));
                    })
                .compose(
                    again -> {
                      expectError(again, "conflict");
                      return c.request(onLive("resume"));
                    })
                .map(
                    r -> {
                      assertEquals("resumed", r.getString("type"), r.encode());
                      assertEquals("running", r.getJsonObject("result").getString("status"));
                      return r;
                    }));
  }

  @Test
  void resumeContinuesAStoppedJobFromItsCheckpoint(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(msg("start").put("spec", server.spec(1000, 0)))
                .compose(
                    r -> {
                      String id = r.getJsonObject("result").getString("id");
                      return c.request(
                              msg("subscribe")
                                  .put("job", id)
                                  .put("streams", new JsonArray().add("loss").add("status")))
                          .compose(s -> c.next("epoch"))
                          .compose(e -> c.request(msg("stop").put("job", id)))
                          .compose(s -> nextStatus(c, id, "stopped"))
                          .compose(
                              s ->
                                  c.request(msg("resume").put("job", id))
                                      .map(
                                          r2 ->
                                              r2.put(
                                                  "stoppedAtStep",
                                                  s.getJsonObject("job").getLong("step"))));
                    })
                .compose(
                    r -> {
                      assertEquals("resumed", r.getString("type"), r.encode());
                      JsonObject job = r.getJsonObject("result");
                      long from = job.getLong("resumedAtStep");
                      // A stop checkpoints the job at the step it stopped after, inside an epoch
                      // too.
                      assertTrue(from >= 16, "after the first epoch: " + from);
                      assertEquals(
                          r.getLong("stoppedAtStep"),
                          from,
                          "the resume continues at the step the stop checkpointed");
                      return c.next("log", l -> l.getString("message").contains("checkpoint"))
                          .compose(
                              l ->
                                  c.next(
                                      "history",
                                      h ->
                                          h.getJsonObject("columns").getJsonArray("step").size()
                                              > from))
                          .compose(
                              h -> {
                                JsonArray steps = h.getJsonObject("columns").getJsonArray("step");
                                for (int i = 0; i < steps.size(); i++) {
                                  assertEquals(
                                      i + 1L,
                                      steps.getLong(i),
                                      "steps 1.. without gaps or repeats across the resume");
                                }
                                return c.request(msg("stop").put("job", job.getString("id")));
                              });
                    }));
  }

  @Test
  void stop(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(msg("start").put("spec", server.spec(1000, 0)))
                .compose(
                    r ->
                        c.request(
                            msg("stop").put("job", r.getJsonObject("result").getInteger("num"))))
                .compose(
                    r -> {
                      assertEquals("stopped", r.getString("type"), r.encode());
                      String id = r.getJsonObject("result").getString("id");
                      return nextStatus(c, id, "stopped").map(id);
                    })
                .compose(id -> c.request(msg("stop").put("job", id)))
                .map(errorReply("conflict")));
  }

  @Test
  void delete(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("delete"))
                .compose(
                    busy -> {
                      expectError(busy, "conflict");
                      return c.request(msg("start").put("spec", server.spec(1, 0)));
                    })
                .compose(
                    r -> {
                      String id = r.getJsonObject("result").getString("id");
                      return nextStatus(c, id, "completed")
                          .compose(s -> c.request(msg("delete").put("job", id)))
                          .compose(
                              d -> {
                                assertEquals("deleted", d.getString("type"), d.encode());
                                return c.next("deleted", b -> id.equals(b.getString("jobId")));
                              })
                          .compose(b -> c.request(msg("subscribe").put("job", id)));
                    })
                .map(errorReply("unknown_job")));
  }

  @Test
  void set(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("subscribe").put("streams", new JsonArray().add("loss")))
                .compose(s -> c.request(onLive("set").put("key", "lr").put("value", 0.0007)))
                .compose(
                    r -> {
                      assertEquals("set", r.getString("type"), r.encode());
                      return c.next("setting", s -> "lr".equals(s.getString("key")));
                    })
                .compose(
                    s -> {
                      assertEquals(0.0007, s.getDouble("value"), 1e-12);
                      return c.request(onLive("set").put("key", "noise").put("value", 0.1));
                    })
                .map(errorReply("bad_request", "noise")));
  }

  @Test
  void decode(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("decode").put("plane", new JsonArray().add(0.5).add(-0.5)))
                .compose(
                    r -> {
                      assertEquals("decoded", r.getString("type"), r.encode());
                      assertPng(r.getJsonObject("result").getJsonArray("images").getString(0));
                      assertEquals(28, r.getJsonObject("result").getInteger("width"));
                      return c.request(
                          onLive("decode")
                              .put(
                                  "z",
                                  new JsonArray()
                                      .add(new JsonArray().add(0).add(0))
                                      .add(new JsonArray().add(1).add(-1))));
                    })
                .compose(
                    r -> {
                      assertEquals(2, r.getJsonObject("result").getJsonArray("images").size());
                      return c.request(
                          onLive("decode").put("z", new JsonArray().add(1).add(2).add(3)));
                    })
                .map(errorReply("bad_request")));
  }

  @Test
  void encode(Vertx vertx, VertxTestContext ctx) {
    JsonArray pixels = new JsonArray();
    for (int i = 0; i < 784; i++) {
      pixels.add(i % 28 == 14 ? 1.0 : 0.0);
    }
    withClient(
        vertx,
        ctx,
        c ->
            c.request(onLive("encode").put("pixels", pixels))
                .compose(
                    r -> {
                      assertEquals("encoded", r.getString("type"), r.encode());
                      JsonObject e = r.getJsonObject("result");
                      assertEquals(2, e.getJsonArray("mean").getJsonArray(0).size());
                      assertEquals(2, e.getJsonArray("planeStd").getJsonArray(0).size());
                      assertTrue(e.getBoolean("variational"));
                      assertPng(e.getJsonArray("reconstructions").getString(0));
                      return c.request(
                          onLive("encode").put("pixels", new JsonArray().add(0.5).add(0.5)));
                    })
                .map(errorReply("bad_request", "784")));
  }

  @Test
  void interpolate(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            // The bad request first: the good one spends this client's share of trainer time.
            c.request(
                    onLive("interpolate")
                        .put("from", new JsonObject().put("index", 0))
                        .put("to", new JsonObject().put("index", 1))
                        .put("mode", 3))
                .map(errorReply("bad_request", "mode"))
                .compose(
                    bad ->
                        c.request(
                            onLive("interpolate")
                                .put("from", new JsonObject().put("index", 0))
                                .put(
                                    "to",
                                    new JsonObject().put("plane", new JsonArray().add(1).add(1)))
                                .put("steps", 6)
                                .put("mode", "spherical")))
                .map(
                    r -> {
                      assertEquals("interpolated", r.getString("type"), r.encode());
                      assertEquals(6, r.getJsonObject("result").getJsonArray("images").size());
                      return r;
                    }));
  }

  @Test
  void attribute(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(
                    onLive("attribute")
                        .put("from", new JsonObject().put("index", 2))
                        .put("plus", 1)
                        .put("minus", 0))
                .compose(
                    r -> {
                      assertEquals("attributed", r.getString("type"), r.encode());
                      assertEquals(2, r.getJsonObject("result").getJsonArray("images").size());
                      assertEquals("1 − 0", r.getJsonObject("result").getString("label"));
                      return c.request(
                          onLive("attribute")
                              .put("from", new JsonObject().put("index", 2))
                              .put("plus", 99)
                              .put("minus", 0));
                    })
                .map(errorReply("bad_request")));
  }

  @Test
  void interactiveRequestsBeyondTheInFlightLimitAreRefusedAtOnceWithARetryHint(
      Vertx vertx, VertxTestContext ctx) {
    int n = 4 * DEFAULT_IN_FLIGHT;
    withClient(
        vertx,
        ctx,
        c -> {
          List<Future<JsonObject>> replies = new java.util.ArrayList<>();
          for (int i = 0; i < n; i++) {
            replies.add(
                c.request(onLive("decode").put("plane", new JsonArray().add(0.1 * i).add(0))));
          }
          return Future.all(replies)
              .map(
                  all -> {
                    int busy = 0;
                    for (Future<JsonObject> f : replies) {
                      JsonObject r = f.result();
                      if ("error".equals(r.getString("type"))) {
                        expectError(r, "busy");
                        assertTrue(r.getLong("retryAfterMs") > 0, r.encode());
                        busy++;
                      } else {
                        assertEquals("decoded", r.getString("type"), r.encode());
                      }
                    }
                    assertTrue(busy > 0, "sent " + n + " at once: some are over the limit");
                    assertTrue(n - busy >= DEFAULT_IN_FLIGHT, "the first ones are answered");
                    return all;
                  });
        });
  }

  @Test
  void ping(Vertx vertx, VertxTestContext ctx) {
    withClient(
        vertx,
        ctx,
        c ->
            c.request(msg("ping"))
                .map(
                    r -> {
                      assertEquals("pong", r.getString("type"));
                      return r;
                    }));
  }
}
