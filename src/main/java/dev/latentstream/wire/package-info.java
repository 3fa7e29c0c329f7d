/**
 * The wire vocabulary: what the trainer side produces and the gateway side consumes, in plain Java
 * that imports nothing of ours and no framework. Frame kinds ({@link
 * dev.latentstream.wire.FrameKind}, with their wire names and header codes), rendered frames
 * ({@link dev.latentstream.wire.Frame}) and latent points ({@link
 * dev.latentstream.wire.ScatterPoints}), the epoch and live-setting records ({@link
 * dev.latentstream.wire.EpochResult}, {@link dev.latentstream.wire.SettingChange}), and the binary
 * frame header's layout ({@link dev.latentstream.wire.FrameHeader}). {@code web/api/protocol.md} is
 * the document; {@code ProtocolConstantsTest} holds these, the page's {@code web/src/protocol.js}
 * and the Python client's {@code messages.py} to its tables.
 *
 * <p>Threads: every type here is immutable (a frame's bytes are never modified once made) and may
 * be shared across threads.
 */
package dev.latentstream.wire;
