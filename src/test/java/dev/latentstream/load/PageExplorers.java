package dev.latentstream.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Option;

/**
 * Issue 20's "50 explorers cost the trainer at most the weight fetches": {@code --page-explorers}
 * simulated explorers, each as the page is while a user hovers the latent plane: a socket
 * subscribed to the job, the decoder's weights fetched as web/src/local-decoder.js fetches them
 * ({@code model.safetensors?part=decoder}, conditionally at most once per 10 s, epoch ends
 * included: an epoch end waits for the 10 s mark after the last ask, or when that has passed comes
 * a random part of 3 s late, as the first download does), and {@code --explorer-rate} hovers a
 * second decoded here with those weights ({@code --explorer-path page}), or sent to the server as
 * {@code decode} requests, one in flight, as the page does without local decoding ({@code
 * --explorer-path server}). Training's steps/s is compared with a baseline taken just before in the
 * same run, from the server's own step times (a quiet viewer's loss stream).
 *
 * <p>The local decodes are real work in this process: run it on the other core than the server
 * ({@code taskset}), as the explorers' browsers would be other machines. Its own CPU is printed.
 */
final class PageExplorers {

  @Option(
      names = "--page-explorers",
      defaultValue = "0",
      description = "Simulated explorers hovering the latent plane (0: none).")
  int explorers;

  @Option(
      names = "--explorer-rate",
      defaultValue = "30",
      description = "Hover decodes per second per explorer.")
  int rate;

  enum Path {
    page,
    server
  }

  @Option(
      names = "--explorer-path",
      defaultValue = "page",
      description = "page: decoded here with the fetched weights; server: decode requests.")
  Path path;

  @Option(
      names = "--explorer-seconds",
      defaultValue = "30",
      description = "How long the explorers hover.")
  int seconds;

  @Option(
      names = "--explorer-baseline",
      defaultValue = "30",
      description = "Baseline measured before the explorers come.")
  int baselineSeconds;

  @Option(
      names = "--explorer-rounds",
      defaultValue = "3",
      description =
          "Baseline-then-explorers rounds (the machine's other load changes; alternating evens it out).")
  int rounds;

  @Option(
      names = "--token",
      description = "The server's token (the weights need it); default: $LATENTSTREAM_TOKEN.")
  String token;

  /** The page's refetch interval (web/src/local-decoder.js REFETCH_MS). */
  static final long REFETCH_MS = 10_000;

  /**
   * The page's spread (web/src/local-decoder.js SPREAD_MS): its first download and its refetch
   * after an epoch end wait a random time up to this long.
   */
  static final long SPREAD_MS = 3_000;

  boolean enabled() {
    return explorers > 0;
  }

  String invalid() {
    if (explorers < 0 || rate < 1 || seconds < 1 || baselineSeconds < 1 || rounds < 1) {
      return "--page-explorers must be 0 or more; --explorer-rate, --explorer-seconds, --explorer-baseline and"
          + " --explorer-rounds above 0";
    }
    return null;
  }

  /** Server time (ms) of each step the quiet viewer saw. */
  private final List<Long> stepTimes = new ArrayList<>();

  /** The latest plane's origin and axes ({@code plane} message), for turning hovers into codes. */
  private final AtomicReference<float[][]> plane = new AtomicReference<>();

  private final LongAdder decodes = new LongAdder();
  private final LongAdder busy = new LongAdder();
  private final LongAdder fetched = new LongAdder();
  private final LongAdder notModified = new LongAdder();
  private final LongAdder fetchedBytes = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private volatile boolean hovering;

  void run(LoadGenerator g, int jobNum) throws Exception {
    String key = token != null ? token : System.getenv("LATENTSTREAM_TOKEN");
    if (path == Path.page && key == null) {
      throw new IllegalStateException("the weights need the token: --token or LATENTSTREAM_TOKEN");
    }
    String jobId = jobId(g, jobNum);
    System.out.printf(
        Locale.ROOT,
        "explorers: %s job %d (%s): baseline %d s, then %d explorers x %d hovers/s on the %s path for %d s%n",
        g.url,
        jobNum,
        jobId,
        baselineSeconds,
        explorers,
        rate,
        path,
        seconds);
    WebSocket quiet = quietViewer(g, jobNum);
    ExecutorService work = Executors.newFixedThreadPool(2);
    List<Explorer> all = new ArrayList<>();
    try {
      long until = System.currentTimeMillis() + 30_000;
      while ((stepCount(0, Long.MAX_VALUE) < 2 || plane.get() == null)
          && System.currentTimeMillis() < until) {
        Thread.sleep(50);
      }
      if (plane.get() == null) {
        throw new IllegalStateException("no steps or no plane from job " + jobNum + " in 30 s");
      }
      System.out.println(
          "| round | baseline steps/s | with explorers steps/s | ratio | server CPU ms/s (base / explorers) | load generator CPU ms/s | decodes/s done |");
      System.out.println("|---|---|---|---|---|---|---|");
      double sumBase = 0;
      double sumDuring = 0;
      List<Double> ratios = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        long b0 = System.currentTimeMillis();
        long cpuB0 = g.cpuTicks();
        Thread.sleep(TimeUnit.SECONDS.toMillis(baselineSeconds));
        long b1 = System.currentTimeMillis();
        long cpuB1 = g.cpuTicks();

        for (int i = 0; i < explorers; i++) {
          Explorer e = new Explorer(i);
          e.ws = g.wsClient.connect(g.wsOptions()).await(30, TimeUnit.SECONDS);
          e.attach(g, jobNum, jobId, key);
          all.add(e);
        }
        // The page fetches when the user starts exploring: the explorers hover once they have
        // weights.
        long ready = System.currentTimeMillis() + 60_000;
        while (path == Path.page
            && all.stream().anyMatch(e -> e.decoder == null)
            && System.currentTimeMillis() < ready) {
          for (Explorer e : all) {
            e.refreshIfDue(g, jobId, key);
          }
          Thread.sleep(50);
        }
        hovering = true;
        long h0 = System.currentTimeMillis();
        long cpuH0 = g.cpuTicks();
        long selfH0 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());
        long decodes0 = decodes.sum();
        long start = System.nanoTime();
        long due = 0;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
          long target = (System.nanoTime() - start) * rate / 1_000_000_000L;
          for (; due < target; due++) {
            for (Explorer e : all) {
              e.hover(g, jobNum, work);
            }
          }
          for (Explorer e : all) {
            e.refreshIfDue(g, jobId, key);
          }
          Thread.sleep(5);
        }
        long h1 = System.currentTimeMillis();
        long cpuH1 = g.cpuTicks();
        long selfH1 = LoadGenerator.cpuTicks(ProcessHandle.current().pid());
        hovering = false;
        for (Explorer e : all) {
          e.ws.close();
        }
        all.clear();
        // The last steps of the window reach the quiet viewer a little later.
        Thread.sleep(1500);
        double baseline = stepCount(b0, b1) * 1000.0 / (b1 - b0);
        double during = stepCount(h0, h1) * 1000.0 / (h1 - h0);
        sumBase += baseline;
        sumDuring += during;
        ratios.add(during / baseline);
        System.out.printf(
            Locale.ROOT,
            "| %d | %.1f | %.1f | %.1f %% | %s / %s | %.0f | %.0f |%n",
            round,
            baseline,
            during,
            100 * during / baseline,
            perSecond(cpuB0, cpuB1, b1 - b0),
            perSecond(cpuH0, cpuH1, h1 - h0),
            (selfH1 - selfH0) * 10_000.0 / (h1 - h0),
            (decodes.sum() - decodes0) * 1000.0 / (h1 - h0));
      }
      ratios.sort(null);
      System.out.printf(
          Locale.ROOT,
          "explorers: %d rounds of %d s baseline then %d s with %d explorers (%s path, asked %d decodes/s):"
              + " mean steps/s %.1f vs %.1f (%.1f %%), median round ratio %.1f %%%n",
          rounds,
          baselineSeconds,
          seconds,
          explorers,
          path,
          explorers * rate,
          sumDuring / rounds,
          sumBase / rounds,
          100 * sumDuring / sumBase,
          100 * ratios.get(ratios.size() / 2));
      System.out.printf(
          Locale.ROOT,
          "explorers: busy replies %d; weights fetched %d (%.1f MB), not modified (304) %d, failed %d%n",
          busy.sum(),
          fetched.sum(),
          fetchedBytes.sum() / 1e6,
          notModified.sum(),
          failures.sum());
    } finally {
      hovering = false;
      for (Explorer e : all) {
        e.ws.close();
      }
      quiet.close();
      work.shutdownNow();
    }
  }

  /** One simulated page. Its fields are written on this process's event loops and hover thread. */
  private final class Explorer {
    final SplittableRandom random;
    WebSocket ws;
    volatile Mlp decoder;
    volatile String etag;

    /**
     * When the weights are next asked for (ms); the first download waits a random part of the
     * spread.
     */
    volatile long dueAt;

    /** When the weights were last asked for (ms); -1: not yet. */
    volatile long askedAt = -1;

    volatile boolean fetching;
    volatile boolean decoding;
    volatile boolean inFlight;
    long requests;

    Explorer(int i) {
      random = new SplittableRandom(1000 + i);
      dueAt = System.currentTimeMillis() + spread();
    }

    long spread() {
      return java.util.concurrent.ThreadLocalRandom.current().nextLong(SPREAD_MS);
    }

    void attach(LoadGenerator g, int jobNum, String jobId, String key) {
      ws.binaryMessageHandler(b -> {});
      ws.textMessageHandler(
          text -> {
            if (text.startsWith("{\"type\":\"epoch\"")) {
              // As the page's LocalDecoder.onEpoch: never sooner than 10 s after the last ask; past
              // that mark, within the spread.
              long now = System.currentTimeMillis();
              if (askedAt >= 0 && dueAt <= now) {
                dueAt = Math.max(askedAt + REFETCH_MS, now + spread());
              }
            } else if (inFlight && text.contains("\"id\":\"x")) {
              inFlight = false;
              if (text.startsWith("{\"type\":\"decoded\"")) {
                decodes.increment();
              } else if (text.contains("\"busy\"")) {
                busy.increment();
              }
            }
          });
      ws.writeTextMessage(
          new JsonObject().put("type", "subscribe").put("id", "s").put("job", jobNum).encode());
      refreshIfDue(g, jobId, key);
    }

    void refreshIfDue(LoadGenerator g, String jobId, String key) {
      if (path != Path.page || fetching || System.currentTimeMillis() < dueAt) {
        return;
      }
      fetching = true;
      askedAt = System.currentTimeMillis();
      dueAt = askedAt + REFETCH_MS;
      RequestOptions o =
          new RequestOptions()
              .setMethod(HttpMethod.GET)
              .setURI("/api/jobs/" + jobId + "/model.safetensors?part=decoder")
              .putHeader("Authorization", "Bearer " + key);
      if (etag != null) {
        o.putHeader("If-None-Match", etag);
      }
      g.http
          .request(o)
          .compose(
              req ->
                  req.send()
                      .compose(
                          resp ->
                              resp.body()
                                  .map(
                                      body -> {
                                        if (resp.statusCode() == 304) {
                                          notModified.increment();
                                        } else if (resp.statusCode() == 200) {
                                          fetched.increment();
                                          fetchedBytes.add(body.length());
                                          decoder = Mlp.parse(body);
                                          etag = resp.getHeader("ETag");
                                        } else {
                                          failures.increment();
                                        }
                                        return body;
                                      })))
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  failures.increment();
                }
                fetching = false;
              });
    }

    /** One pointer move: decoded here (one at a time, as the page's worker does) or asked for. */
    void hover(LoadGenerator g, int jobNum, ExecutorService work) {
      float[][] p = plane.get();
      float u = (float) (random.nextDouble() * 6 - 3);
      float v = (float) (random.nextDouble() * 6 - 3);
      if (path == Path.server) {
        if (!inFlight) {
          inFlight = true;
          ws.writeTextMessage(
              "{\"type\":\"decode\",\"id\":\"x"
                  + requests++
                  + "\",\"job\":"
                  + jobNum
                  + ",\"plane\":["
                  + u
                  + ","
                  + v
                  + "]}");
        }
        return;
      }
      Mlp d = decoder;
      if (d == null || decoding) {
        return;
      }
      decoding = true;
      work.execute(
          () -> {
            try {
              float[] z = new float[p[0].length];
              for (int j = 0; j < z.length; j++) {
                z[j] = p[0][j] + u * p[1][j] + v * p[2][j];
              }
              float[] img = d.decode(z);
              if (img.length > 0 && hovering) {
                decodes.increment();
              }
            } finally {
              decoding = false;
            }
          });
    }
  }

  /** An exported MLP decoder (model.safetensors?part=decoder), as web/src/decoder.js runs it. */
  record Mlp(List<float[]> weights, List<float[]> biases, List<int[]> shapes, String activation) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Mlp parse(Buffer file) {
      ByteBuffer b = ByteBuffer.wrap(file.getBytes()).order(ByteOrder.LITTLE_ENDIAN);
      int n = (int) b.getLong(0);
      try {
        JsonNode header =
            JSON.readTree(new String(file.getBytes(8, 8 + n), StandardCharsets.UTF_8));
        String activation =
            JSON.readTree(header.path("__metadata__").path("spec").asText("{}"))
                .path("activation")
                .asText("relu");
        List<float[]> w = new ArrayList<>();
        List<float[]> bias = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        for (int i = 0; header.has("decoder.linear" + i + ".weight"); i++) {
          JsonNode wt = header.get("decoder.linear" + i + ".weight");
          shapes.add(new int[] {wt.get("shape").get(0).asInt(), wt.get("shape").get(1).asInt()});
          w.add(floats(b, 8 + n, wt.get("data_offsets")));
          bias.add(
              floats(b, 8 + n, header.get("decoder.linear" + i + ".bias").get("data_offsets")));
        }
        return new Mlp(w, bias, shapes, activation);
      } catch (java.io.IOException e) {
        throw new IllegalStateException("unreadable weights: " + e.getMessage(), e);
      }
    }

    private static float[] floats(ByteBuffer b, int base, JsonNode offsets) {
      int from = offsets.get(0).asInt();
      int to = offsets.get(1).asInt();
      float[] out = new float[(to - from) / 4];
      b.slice(base + from, to - from).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }

    float[] decode(float[] z) {
      float[] x = z;
      for (int k = 0; k < weights.size(); k++) {
        int out = shapes.get(k)[0];
        int in = shapes.get(k)[1];
        float[] w = weights.get(k);
        float[] y = new float[out];
        boolean last = k + 1 == weights.size();
        for (int o = 0; o < out; o++) {
          float s = biases.get(k)[o];
          for (int i = 0; i < in; i++) {
            s += w[o * in + i] * x[i];
          }
          y[o] = last ? (float) (1 / (1 + Math.exp(-s))) : act(s);
        }
        x = y;
      }
      return x;
    }

    private float act(float s) {
      return switch (activation) {
        case "sigmoid" -> (float) (1 / (1 + Math.exp(-s)));
        case "tanh" -> (float) Math.tanh(s);
        default -> Math.max(0, s);
      };
    }
  }

  /** The quiet viewer: step times from the loss stream, the plane from plane messages. */
  private WebSocket quietViewer(LoadGenerator g, int jobNum) throws Exception {
    return DecodeFlood.quietSocket(
        g,
        jobNum,
        text -> {
          if (text.startsWith("{\"type\":\"loss\"")) {
            JsonArray t = new JsonObject(text).getJsonObject("columns").getJsonArray("time");
            synchronized (stepTimes) {
              for (int i = 0; i < t.size(); i++) {
                if (t.getValue(i) instanceof Number n) {
                  stepTimes.add(n.longValue());
                }
              }
            }
          } else if (text.startsWith("{\"type\":\"plane\"")) {
            JsonObject m = new JsonObject(text);
            if (m.getJsonArray("origin") != null) {
              JsonArray axes = m.getJsonArray("axes");
              plane.set(
                  new float[][] {
                    floats(m.getJsonArray("origin")),
                    floats(axes.getJsonArray(0)),
                    floats(axes.getJsonArray(1))
                  });
            }
          }
        });
  }

  private static float[] floats(JsonArray a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.getNumber(i).floatValue();
    }
    return out;
  }

  private long stepCount(long from, long to) {
    synchronized (stepTimes) {
      return stepTimes.stream().filter(t -> t >= from && t < to).count();
    }
  }

  private static String jobId(LoadGenerator g, int jobNum) throws Exception {
    JsonArray jobs = g.jobs();
    for (int i = 0; i < jobs.size(); i++) {
      if (jobs.getJsonObject(i).getInteger("num") == jobNum) {
        return jobs.getJsonObject(i).getString("id");
      }
    }
    throw new IllegalStateException("no job " + jobNum + " at " + g.url);
  }

  private static String perSecond(long cpu0, long cpu1, long millis) {
    return cpu0 < 0
        ? "–"
        : String.format(Locale.ROOT, "%.0f", (cpu1 - cpu0) * 10_000.0 / Math.max(1, millis));
  }
}
