/**
 * Operations: what an operator scrapes, probes and reads. {@code /metrics} (Prometheus text,
 * Vert.x's own meters plus per-job gauges fed from the trainer's events and the stream hubs'
 * counters), {@code /health} and {@code /ready}, one log line per job event ({@link
 * dev.latentstream.ops.JobWatch}), the log format ({@link dev.latentstream.ops.LogFormat}) and the
 * shutdown signals.
 *
 * <p>Threads: one {@link dev.latentstream.ops.OpsState} per Vertx, kept in its local shared data;
 * its trainer-event consumer runs on an event-loop context of its own (no deployment owns it), the
 * Prometheus scrape on the scraping gateway's loop. Gauges read volatile fields, so any thread may
 * scrape. This package depends on {@code bus}, {@code config} and {@code data} only; the gateway
 * hands in its hub's counters as a supplier.
 */
package dev.latentstream.ops;
