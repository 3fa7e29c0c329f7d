package dev.latentstream.ops;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
 * is a {@code # HELP}, a {@code # TYPE} or a sample whose family was typed before it; label values
 * are unescaped; a malformed line, an unknown type or a repeated series fails with the line in the
 * message. (Central has no parser for the format; the client libraries only write it.)
 */
public final class PrometheusText {

  public record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)( -?\\d+)?");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"(,|$)");
  private static final Set<String> TYPES =
      Set.of("counter", "gauge", "histogram", "summary", "untyped");
  private static final List<String> SUFFIXES =
      List.of("_total", "_count", "_sum", "_bucket", "_max", "_created", "");

  final Map<String, String> types = new LinkedHashMap<>();
  final List<Sample> samples = new ArrayList<>();

  public static PrometheusText parse(String text) {
    PrometheusText p = new PrometheusText();
    Set<String> seen = new java.util.HashSet<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("# HELP ")) {
        String name = line.substring(7).split(" ", 2)[0];
        require(NAME.matcher(name).matches(), "bad HELP name", line);
      } else if (line.startsWith("# TYPE ")) {
        String[] f = line.substring(7).split(" ");
        require(
            f.length == 2 && NAME.matcher(f[0]).matches() && TYPES.contains(f[1]),
            "bad TYPE",
            line);
        require(p.types.put(f[0], f[1]) == null, "family typed twice", line);
      } else if (line.startsWith("#")) {
        continue; // a comment
      } else {
        Matcher m = SAMPLE.matcher(line);
        require(m.matches(), "malformed sample", line);
        String name = m.group(1);
        require(p.family(name) != null, "sample before its # TYPE", line);
        Map<String, String> labels = new HashMap<>();
        if (m.group(3) != null && !m.group(3).isEmpty()) {
          Matcher l = LABEL.matcher(m.group(3));
          int end = 0;
          while (l.lookingAt()) {
            require(labels.put(l.group(1), unescape(l.group(2))) == null, "label repeated", line);
            end = l.end();
            l.region(end, m.group(3).length());
          }
          require(end == m.group(3).length(), "malformed labels", line);
        }
        double value =
            switch (m.group(4)) {
              case "NaN" -> Double.NaN;
              case "+Inf" -> Double.POSITIVE_INFINITY;
              case "-Inf" -> Double.NEGATIVE_INFINITY;
              default -> Double.parseDouble(m.group(4));
            };
        require(seen.add(name + new java.util.TreeMap<>(labels)), "series repeated", line);
        p.samples.add(new Sample(name, labels, value));
      }
    }
    return p;
  }

  /** The typed family a sample name belongs to, or null. */
  String family(String sample) {
    for (String suffix : SUFFIXES) {
      if (sample.endsWith(suffix)
          && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
        return sample.substring(0, sample.length() - suffix.length());
      }
    }
    return null;
  }

  List<Sample> named(String name) {
    return samples.stream().filter(s -> s.name.equals(name)).toList();
  }

  /** The one sample of {@code name} whose labels include {@code labels}. */
  public Sample one(String name, Map<String, String> labels) {
    List<Sample> found =
        named(name).stream()
            .filter(s -> s.labels.entrySet().containsAll(labels.entrySet()))
            .toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one " + name + labels + ", found " + found);
    }
    return found.getFirst();
  }

  private static String unescape(String v) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\\') {
        char next = v.charAt(++i);
        b.append(next == 'n' ? '\n' : next);
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static void require(boolean ok, String what, String line) {
    if (!ok) {
      throw new AssertionError(what + ": " + line);
    }
  }
}
