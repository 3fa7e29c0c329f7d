/**
 * Frame rendering: float tensor memory in, PNG out. {@link dev.latentstream.render.FrameRenderer}
 * is the only type callers see; {@link dev.latentstream.render.Renderers#best()} picks the
 * implementation.
 *
 * <p>Threads: renderers are stateless and thread-safe; each call reads its input segments only for
 * its own duration, so the caller (the trainer thread, owner of the tensors) keeps ownership
 * throughout.
 */
package dev.latentstream.render;
