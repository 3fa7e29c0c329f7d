/**
 * The gateway side: {@link dev.latentstream.gateway.HttpVerticle} (event loop) serves the page, the
 * REST API ({@link dev.latentstream.gateway.RestApi}) and {@code /ws}, whose clients a {@link
 * dev.latentstream.stream.StreamHub} serves. It reaches the trainer side only over the event bus.
 *
 * <p>Threads: each verticle instance and its hub live on one event loop; file reads and encodings
 * run on workers.
 */
package dev.latentstream.gateway;
