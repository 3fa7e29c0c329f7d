/**
 * The server: one verticle per concern. {@link dev.latentstream.server.TrainerVerticle} (a worker) owns
 * the jobs and runs each trainer on a dedicated thread it starts; {@link
 * dev.latentstream.server.HttpVerticle} (event loop) serves the page, the REST API ({@link
 * dev.latentstream.server.JobsApi}) and {@code /ws}. They talk only over the event bus ({@link
 * dev.latentstream.server.Addresses}): {@link dev.latentstream.server.TrainerCommand}s in, {@link
 * dev.latentstream.server.TrainerEvent}s and {@link dev.latentstream.server.FrameMessage}s out, records
 * whose codecs hand over the object locally and have a wire form, so the two could live in different
 * JVMs of a clustered Vert.x.
 *
 * <p>Threads: a {@link dev.latentstream.server.Job} is mutated by its verticle's context and, for
 * progress fields (volatile), by its trainer thread; nothing here blocks an event loop.
 */
package dev.latentstream.server;
