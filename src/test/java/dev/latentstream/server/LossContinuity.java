package dev.latentstream.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks one viewer's loss stream as the page draws it: each {@code history} replaces the chart
 * (its steps rising), and every {@code loss} point after it continues the last step by exactly one:
 * no gap, no repeat. A loss point before any history on a connection is a fault too. Thread-safe.
 */
final class LossContinuity {

  private final String who;
  private final List<String> problems = new ArrayList<>();
  private long last;
  private boolean haveHistory;
  private long histories;
  private long livePoints;

  LossContinuity(String who) {
    this.who = who;
  }

  /** A text message the viewer received; anything but history and loss is ignored. */
  synchronized void received(JsonObject m) {
    switch (m.getString("type", "")) {
      case "history" -> history(m.getJsonObject("columns").getJsonArray("step"));
      case "loss" -> loss(m.getJsonObject("columns").getJsonArray("step"));
      default -> {}
    }
  }

  /** The socket closed: the next connection starts with a history of its own. */
  synchronized void disconnected() {
    haveHistory = false;
  }

  private void history(JsonArray steps) {
    for (int i = 1; i < steps.size(); i++) {
      if (steps.getLong(i) <= steps.getLong(i - 1)) {
        problem(
            "history steps not rising at "
                + i
                + ": "
                + steps.getLong(i - 1)
                + " then "
                + steps.getLong(i));
      }
    }
    last = steps.isEmpty() ? 0 : steps.getLong(steps.size() - 1);
    haveHistory = true;
    histories++;
  }

  private void loss(JsonArray steps) {
    if (!haveHistory) {
      problem("loss points " + steps.getLong(0) + ".. before any history on this connection");
      return;
    }
    for (int i = 0; i < steps.size(); i++) {
      long s = steps.getLong(i);
      if (s != last + 1) {
        problem((s > last + 1 ? "gap: " : "repeat: ") + "step " + s + " after " + last);
      }
      last = Math.max(last, s);
      livePoints++;
    }
  }

  private void problem(String p) {
    if (problems.size() < 20) {
      problems.add(who + ": " + p);
    }
  }

  synchronized List<String> problems() {
    return List.copyOf(problems);
  }

  synchronized long histories() {
    return histories;
  }

  synchronized long livePoints() {
    return livePoints;
  }

  /** The last step this viewer has, from its history or live points. */
  synchronized long lastStep() {
    return last;
  }
}
