/**
 * The streaming protocol ({@code web/api/protocol.md}, version {@link dev.latentstream.stream.Protocol#VERSION}):
 * client messages as records under a sealed interface, per-job history for late joiners, and the fan-out
 * to WebSocket clients with per-client back-pressure (frames conflated, loss points batched, slow
 * clients disconnected).
 *
 * <p>Threads: a {@link dev.latentstream.stream.StreamHub} and its sessions live on one event loop (the
 * HTTP verticle's context); every method is called there.
 */
package dev.latentstream.stream;
