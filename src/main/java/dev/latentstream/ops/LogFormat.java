package dev.latentstream.ops;

import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * How {@code serve} writes its log: {@code text}, one readable line per record, or {@code json},
 * one JSON object per line for log shippers ({@code time}, {@code level}, {@code logger}, {@code
 * message}, plus the record's fields, e.g. {@code event}, {@code job}, {@code epoch}). Everything
 * logged through java.util.logging or System.Logger (Vert.x, Netty, our own) goes through the one
 * handler installed here.
 */
public enum LogFormat {
  text,
  json;

  /**
   * Replaces the root logger's handlers by one writing this format to {@code out}, at INFO and
   * above.
   */
  public void install(PrintStream out) {
    Logger root = LogManager.getLogManager().getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    Handler handler =
        new StreamHandler(out, formatter()) {
          @Override
          public synchronized void publish(LogRecord record) {
            super.publish(record);
            flush(); // a line as it happens, not when a buffer fills
          }
        };
    handler.setLevel(Level.INFO);
    root.addHandler(handler);
    root.setLevel(Level.INFO);
  }

  public Formatter formatter() {
    return this == json ? new Json() : new Text();
  }

  /** The structured fields a record carries as its only parameter, or none. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> fields(LogRecord r) {
    Object[] p = r.getParameters();
    return p != null && p.length == 1 && p[0] instanceof Map<?, ?> m
        ? (Map<String, Object>) m
        : Map.of();
  }

  private static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  /**
   * {@code 2026-11-28T17:00:00.123Z INFO job 1 vae-… epoch 3/10: …}; a throwable follows, indented.
   */
  static final class Text extends Formatter {
    @Override
    public String format(LogRecord r) {
      StringBuilder b =
          new StringBuilder()
              .append(Instant.ofEpochMilli(r.getMillis()))
              .append(' ')
              .append(String.format("%-5s", level(r.getLevel())))
              .append(' ')
              .append(formatMessage(r))
              .append('\n');
      if (r.getThrown() != null) {
        b.append(stackTrace(r.getThrown()).indent(2));
      }
      return b.toString();
    }
  }

  /**
   * One JSON object per line; a throwable becomes {@code error} and {@code stack} strings, still
   * one line.
   */
  static final class Json extends Formatter {
    @Override
    public String format(LogRecord r) {
      JsonObject o =
          new JsonObject()
              .put("time", Instant.ofEpochMilli(r.getMillis()).toString())
              .put("level", level(r.getLevel()))
              .put("logger", r.getLoggerName())
              .put("message", formatMessage(r));
      fields(r)
          .forEach(
              (k, v) -> {
                if (!o.containsKey(k)) {
                  o.put(k, v);
                }
              });
      if (r.getThrown() != null) {
        o.put("error", r.getThrown().toString()).put("stack", stackTrace(r.getThrown()));
      }
      return o.encode() + "\n";
    }
  }

  /** The usual names: SEVERE is ERROR, WARNING is WARN, FINE and below DEBUG. */
  static String level(Level l) {
    if (l.intValue() >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (l.intValue() >= Level.WARNING.intValue()) {
      return "WARN";
    }
    return l.intValue() >= Level.INFO.intValue() ? "INFO" : "DEBUG";
  }
}
