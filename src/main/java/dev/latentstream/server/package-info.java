/**
 * Wiring: reads the server config, registers the {@link dev.latentstream.bus} codecs and deploys
 * the trainer side ({@link dev.latentstream.jobs}) and the gateway side ({@link
 * dev.latentstream.gateway}), which talk only over the event bus and never import each other.
 *
 * <p>Threads: everything here runs once, at start-up, on the caller's thread or a Vert.x context.
 */
package dev.latentstream.server;
