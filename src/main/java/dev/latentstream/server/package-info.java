/**
 * The server: one verticle per concern. {@link dev.latentstream.server.TrainerVerticle} (a worker) owns
 * the jobs and runs each trainer on a dedicated thread it starts; {@link
 * dev.latentstream.server.HttpVerticle} (event loop) serves the page, the REST API and {@code /ws}. They
 * talk only over the event bus ({@link dev.latentstream.server.Addresses}), with codecs that have a
 * wire form, so they could live in different JVMs of a clustered Vert.x.
 *
 * <p>Threads: a {@link dev.latentstream.server.Job} is mutated by its verticle's context and, for
 * progress fields (volatile), by its trainer thread; nothing here blocks an event loop.
 */
package dev.latentstream.server;
