/**
 * The Panama bridge to {@code native/} (liblsframes): frame kernels that read tensor memory in
 * place. Callers see only {@link dev.latentstream.nativelib.FrameKernels}; {@link
 * dev.latentstream.nativelib.Kernels#best()} returns the native implementation when the library
 * loads and the pure-Java one otherwise. It also reaches the C libraries libtorch brings ({@link
 * dev.latentstream.nativelib.OpenBlas}: the GEMM and thread counts of libtorch's OpenBLAS) and libc
 * ({@link dev.latentstream.nativelib.ThreadPriority}). This is the only package that links symbols
 * or makes downcalls ({@code ArchitectureTest}); others hand it memory as {@code MemorySegment}s.
 *
 * <p>Ownership: kernels never keep a segment after a call. Each native call site opens and closes
 * its own confined {@code Arena} for the buffers it allocates; input segments stay owned by the
 * caller (for tensor memory, by the tensor, which must outlive the call).
 *
 * <p>Threads: {@link dev.latentstream.nativelib.SplitWork} runs a kernel's chunks on its owner's
 * thread and one helper thread of its own, which the owner (the hand-written MLP VAE step) closes.
 */
package dev.latentstream.nativelib;
