/**
 * The streaming protocol ({@code web/api/protocol.md}, version {@link
 * dev.latentstream.stream.Protocol#VERSION}): client messages as records under a sealed interface,
 * per-job history for late joiners, and the fan-out to WebSocket clients with per-client
 * back-pressure (a bounded backlog, frames capped and conflated, loss points batched and never
 * dropped, slow and over-busy clients disconnected).
 *
 * <p>Threads: a {@link dev.latentstream.stream.StreamHub} and everything it owns live on one event
 * loop (the HTTP verticle's context); every method is called there. Each HTTP verticle instance has
 * its own hub, so a job has one {@code JobStream} and one {@code JobHistory} per event loop. Two
 * kinds of work go to workers and come back as futures: reading a run directory ({@code
 * HistoryLoader} through {@code RunFiles}) and building a history snapshot ({@code
 * HistorySnapshot}, which reads a {@code Columns.View}: rows written before the view never change).
 * A message for many clients is encoded once ({@code Encoded}) and the same bytes go to each.
 *
 * <p>Ownership: the hub wires the parts together; its {@code JobStreams} own the job streams and
 * turn trainer events into messages; a {@code JobStream} owns one run's status and live state, its
 * {@code JobHistory} what late joiners get; the {@code FanOut} owns the set of sessions and sends
 * to many; a {@code ClientSession} owns one client's state (subscriptions, back-pressure, budgets,
 * whether its history is owed), and the others change it only through its methods; its {@code
 * FramePacer} decides when its image frames go; {@code ClientRequests} answers what clients ask.
 */
package dev.latentstream.stream;
