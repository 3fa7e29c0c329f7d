package dev.latentstream.ops;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT as a request for a graceful shutdown rather than the JVM's immediate exit
 * (status 143 or 130): the caller waits on the returned future, shuts down in order and exits. A
 * second signal while that runs quits at once with 130, for an operator who does not want to wait.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way to handle a signal
 * without starting the shutdown sequence, whose hooks would race whatever the caller still has to
 * write.
 */
public final class ShutdownSignals implements AutoCloseable {

  private final CompletableFuture<Signal> first = new CompletableFuture<>();
  private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

  private ShutdownSignals() {
    for (String name : List.of("TERM", "INT")) {
      Signal signal = new Signal(name);
      previous.put(
          signal,
          Signal.handle(
              signal,
              s -> {
                if (!first.complete(s)) {
                  System.err.println(
                      "latentstream: second SIG" + s.getName() + ", quitting without waiting");
                  Runtime.getRuntime().halt(130);
                }
              }));
    }
  }

  /**
   * Completes with the first signal's name ({@code TERM} or {@code INT}). Install once per process.
   */
  public static CompletableFuture<String> install() {
    return new ShutdownSignals().first.thenApply(Signal::getName);
  }

  /**
   * Handles the two signals until closed, then hands them back to whoever had them (a command run
   * inside another program's process, as the tests do, leaves its signals as it found them).
   */
  public static ShutdownSignals handle() {
    return new ShutdownSignals();
  }

  /** Completes with the first signal. */
  public CompletableFuture<Signal> first() {
    return first;
  }

  /**
   * The exit status a process stopped by the first signal reports: 128 + its number; 0 before any.
   */
  public int exitStatus() {
    return first.isDone() ? 128 + first.join().getNumber() : 0;
  }

  @Override
  public void close() {
    previous.forEach(Signal::handle);
  }
}
