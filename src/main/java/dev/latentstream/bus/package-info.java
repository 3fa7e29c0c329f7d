/**
 * The event-bus contract between the trainer side and the gateway side: addresses ({@link
 * dev.latentstream.bus.Addresses}), trainer events ({@link dev.latentstream.bus.TrainerEvent}),
 * commands ({@link dev.latentstream.bus.TrainerCommand}), rendered frames ({@link
 * dev.latentstream.bus.FrameMessage}) and their codecs. It builds on the wire vocabulary ({@code
 * dev.latentstream.wire}) and the diagnostics records, and on nothing else of ours. Both sides
 * depend on this package and never on each other. Records here are immutable and may be shared
 * across threads; locally the codecs hand over the same object, across a cluster they travel in
 * their wire form.
 */
package dev.latentstream.bus;
