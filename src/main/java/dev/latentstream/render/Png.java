package dev.latentstream.render;

/** An encoded PNG and its size in pixels. */
public record Png(int width, int height, byte[] bytes) {}
