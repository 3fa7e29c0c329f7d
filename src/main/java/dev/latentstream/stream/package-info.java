/**
 * The streaming protocol ({@code web/api/protocol.md}, version {@link
 * dev.latentstream.stream.Protocol#VERSION}): client messages as records under a sealed interface,
 * per-job history for late joiners, and the fan-out to WebSocket clients with per-client
 * back-pressure (a bounded backlog, frames capped and conflated, loss points batched and never
 * dropped, slow and over-busy clients disconnected).
 *
 * <p>Threads: a {@link dev.latentstream.stream.StreamHub} and its sessions live on one event loop
 * (the HTTP verticle's context); every method is called there. Two kinds of work go to workers and
 * come back as futures: reading a run directory ({@code RunFiles}) and building a history snapshot
 * ({@code HistorySnapshot}, which reads a {@code Columns.View}: rows written before the view never
 * change). A message for many clients is encoded once ({@code Encoded}) and the same bytes go to
 * each.
 *
 * <p>Ownership: a {@code ClientSession} owns one client's state (subscriptions, back-pressure,
 * budgets, whether its history is owed); the hub and {@code ClientRequests} change it only through
 * its methods. The hub owns the job streams and the set of sessions.
 */
package dev.latentstream.stream;
