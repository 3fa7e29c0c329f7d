package dev.latentstream.ops;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request for a graceful shutdown rather than the JVM's immediate exit (status 143 or
 * 130): the caller waits on the returned future, shuts down in order and exits 0. A second signal while that
 * runs quits at once with 130, for an operator who does not want to wait.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way to handle a signal without
 * starting the shutdown sequence.
 */
public final class ShutdownSignals {

  private ShutdownSignals() {}

  /** Completes with the first signal's name ({@code TERM} or {@code INT}). Install once per process. */
  public static CompletableFuture<String> install() {
    CompletableFuture<String> first = new CompletableFuture<>();
    for (String name : List.of("TERM", "INT")) {
      Signal.handle(new Signal(name), s -> {
        if (!first.complete(s.getName())) {
          System.err.println("latentstream: second SIG" + s.getName() + ", quitting without waiting");
          Runtime.getRuntime().halt(130);
        }
      });
    }
    return first;
  }
}
