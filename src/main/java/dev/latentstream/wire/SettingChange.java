package dev.latentstream.wire;

/**
 * A live setting changed while training; recorded in the metrics so curves can be read against it.
 */
public record SettingChange(long step, int epoch, String key, double value) {}
