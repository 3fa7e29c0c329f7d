package dev.latentstream.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.latentstream.config.JobConfigs;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A peer's stdout as {@code bench} reads it, one JSON object a line: one per epoch ({@code epoch},
 * {@code seconds}, {@code test_loss}), then the VAEs' IWAE bound ({@code iwae}, {@code
 * iwae_seconds}) and its peak memory ({@code peak_rss_mib}). Any other line is a {@link UserError}
 * that names the preset, the script, the line and what is wrong with it. Owned by the thread that
 * reads the peer's stdout.
 */
final class BenchPeerOutput {

  /** How much of a bad line the error shows. */
  private static final int SHOWN = 200;

  /** Python's {@code json.dumps} writes NaN bare; read it, so the error says what it is. */
  private static final ObjectReader READER =
      JobConfigs.JSON.reader().with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS);

  private final String preset;
  private final String script;
  private final int iwaeSamples;
  private final List<BenchSide.Epoch> epochs = new ArrayList<>();
  private double peak = Double.NaN;
  private double iwae = Double.NaN;
  private int lines;

  BenchPeerOutput(String preset, String script, int iwaeSamples) {
    this.preset = preset;
    this.script = script;
    this.iwaeSamples = iwaeSamples;
  }

  /** Reads one line of the peer's stdout, printing its epochs and IWAE bound as they come. */
  void accept(String line) {
    lines++;
    if (line.isBlank()) {
      return;
    }
    JsonNode n;
    try {
      n = READER.readTree(line);
    } catch (JsonProcessingException e) {
      throw bad("not JSON", line);
    }
    if (n == null || !n.isObject()) {
      throw bad("not a JSON object", line);
    }
    if (n.has("peak_rss_mib")) {
      peak = number(n, "peak_rss_mib", line);
    } else if (n.has("iwae")) {
      iwae = number(n, "iwae", line);
      System.out.printf(
          Locale.ROOT,
          "  python IWAE bound (K=%d): %.3f in %.1f s%n",
          iwaeSamples,
          iwae,
          seconds(n, "iwae_seconds", line));
    } else {
      epoch(n, line);
    }
  }

  /** The run the peer printed; it must have printed at least one epoch. */
  BenchSide side(long seed) {
    if (epochs.isEmpty()) {
      throw new UserError(
          "bench of "
              + preset
              + ": the python peer "
              + script
              + " printed no epoch line ("
              + lines
              + " lines in all; its stderr went to ours, above)");
    }
    return new BenchSide("python", seed, List.copyOf(epochs), peak, iwae);
  }

  private void epoch(JsonNode n, String line) {
    JsonNode epoch = field(n, "epoch", line);
    if (!epoch.canConvertToInt() || !epoch.isIntegralNumber() || epoch.asInt() < 1) {
      throw bad("\"epoch\" is " + epoch + ", not an epoch number", line);
    }
    double seconds = seconds(n, "seconds", line);
    BenchSide.Epoch e =
        new BenchSide.Epoch(epoch.asInt(), seconds, seconds, number(n, "test_loss", line));
    epochs.add(e);
    System.out.printf(
        Locale.ROOT,
        "  python epoch %d: %.3f s, test loss %.3f%n",
        e.epoch(),
        e.seconds(),
        e.testLoss());
  }

  /** A duration: finite and not negative. */
  private double seconds(JsonNode n, String name, String line) {
    double s = number(n, name, line);
    if (!(s >= 0) || Double.isInfinite(s)) {
      throw bad("\"" + name + "\" is " + s + ", not a time in seconds", line);
    }
    return s;
  }

  /** A number; NaN passes (a diverged loss is a result), the caller checks what it must. */
  private double number(JsonNode n, String name, String line) {
    JsonNode v = field(n, name, line);
    if (!v.isNumber()) {
      throw bad("\"" + name + "\" is " + v + ", not a number", line);
    }
    return v.asDouble();
  }

  private JsonNode field(JsonNode n, String name, String line) {
    JsonNode v = n.get(name);
    if (v == null) {
      throw bad("no \"" + name + "\"", line);
    }
    return v;
  }

  private UserError bad(String problem, String line) {
    String shown = line.length() > SHOWN ? line.substring(0, SHOWN) + "..." : line;
    return new UserError(
        "bench of "
            + preset
            + ": the python peer "
            + script
            + " printed what bench cannot read, line "
            + lines
            + ": "
            + problem
            + " in '"
            + shown
            + "' (its stderr went to ours, above)");
  }
}
