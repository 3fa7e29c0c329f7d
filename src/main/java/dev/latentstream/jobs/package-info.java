/**
 * The trainer side: {@link dev.latentstream.jobs.TrainerVerticle} (a worker) owns the jobs, their queue
 * and one dedicated trainer thread per running job; it answers {@link dev.latentstream.bus.TrainerCommand}s
 * and publishes {@link dev.latentstream.bus.TrainerEvent}s and {@link dev.latentstream.bus.FrameMessage}s
 * through {@link dev.latentstream.jobs.EventPublisher}.
 *
 * <p>Threads: a {@link dev.latentstream.jobs.Job} is mutated by the verticle's context and, for progress
 * fields (volatile), by its trainer thread.
 */
package dev.latentstream.jobs;
