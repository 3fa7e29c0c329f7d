/**
 * The trainer side. {@link dev.latentstream.jobs.TrainerVerticle} (a worker) answers {@link
 * dev.latentstream.bus.TrainerCommand}s by delegating: {@link dev.latentstream.jobs.JobStarts} (new
 * jobs and sweeps, numbered by {@link dev.latentstream.jobs.JobNumbers}), {@link
 * dev.latentstream.jobs.JobQueue} (plain Java: the jobs, their order, slots and queue limit),
 * {@link dev.latentstream.jobs.JobControl} (what users do to jobs; {@link
 * dev.latentstream.jobs.RunDirectories} and {@link dev.latentstream.jobs.Handover} beside it),
 * {@link dev.latentstream.jobs.Recovery} (past runs at start-up), {@link
 * dev.latentstream.jobs.Heartbeat}, {@link dev.latentstream.jobs.RunFileRelay} and {@link
 * dev.latentstream.jobs.ModelRequests}. {@link dev.latentstream.jobs.TrainerThreads} runs one
 * dedicated trainer thread per running job, whose {@link dev.latentstream.jobs.EventPublisher}
 * publishes {@link dev.latentstream.bus.TrainerEvent}s and {@link
 * dev.latentstream.bus.FrameMessage}s.
 *
 * <p>Threads: everything but the trainers runs on the verticle's context; a {@link
 * dev.latentstream.jobs.Job}'s status moves only there ({@link dev.latentstream.jobs.Job#moveTo}),
 * its progress fields (volatile) are written by its trainer thread.
 */
package dev.latentstream.jobs;
