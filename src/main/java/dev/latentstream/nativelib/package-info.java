/**
 * The Panama bridge to {@code native/} (liblsframes): frame kernels that read tensor memory in place.
 * Callers see only {@link dev.latentstream.nativelib.FrameKernels}; {@link
 * dev.latentstream.nativelib.Kernels#best()} returns the native implementation when the library loads
 * and the pure-Java one otherwise.
 *
 * <p>Ownership: kernels never keep a segment after a call. Each native call site opens and closes its
 * own confined {@code Arena} for the buffers it allocates; input segments stay owned by the caller
 * (for tensor memory, by the tensor, which must outlive the call).
 *
 * <p>Threads: {@link dev.latentstream.nativelib.SplitWork} runs a kernel's chunks on its owner's thread and
 * one helper thread of its own, which the owner (the hand-written MLP VAE step) closes.
 */
package dev.latentstream.nativelib;
