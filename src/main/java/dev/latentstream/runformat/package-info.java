/**
 * A run directory as its readers see it: the files' names ({@link
 * dev.latentstream.runformat.RunLayout}) and {@code metrics.csv}, whose one owner {@link
 * dev.latentstream.runformat.MetricsCsv} parses and writes it. Gateways read run directories
 * through this package alone, so they link no model, optimiser or trainer class; the trainer side
 * ({@code rundir}) writes them through it. Imports only {@code wire}.
 *
 * <p>Threads: the readers are blocking and run on any thread but an event loop; a {@code
 * MetricsCsv} writer belongs to the trainer thread.
 */
package dev.latentstream.runformat;
