package dev.latentstream.testing;

import io.vertx.core.Context;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/** Runs test code on a Vert.x context, as the verticle under test would, and waits for it. */
public final class OnContext {

  private OnContext() {}

  /** {@code work}'s result, computed on {@code context}; its exception, if it throws. */
  public static <T> T call(Context context, Callable<T> work) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          try {
            done.complete(work.call());
          } catch (Exception e) {
            done.completeExceptionally(e);
          }
        });
    return done.join();
  }
}
