package dev.latentstream.train;

/**
 * One rendered image stream frame, already PNG-encoded once; consumers share the bytes and never
 * modify them.
 */
public record Frame(FrameKind kind, long step, int epoch, int width, int height, byte[] png) {}
