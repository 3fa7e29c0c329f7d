package dev.latentstream.model;

import dev.latentstream.nativelib.NativeHeap;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads libtorch once per process. Every entry point that touches libtorch calls {@link #load()}
 * first.
 *
 * <p>Why: with an empty JavaCPP cache ({@code ~/.javacpp/cache}, as on a fresh machine), JavaCPP
 * extracts and loads the pytorch libraries one by one, and loading {@code libtorch_cpu.so} in that
 * order crashes the JVM (SIGSEGV in {@code pthread_mutex_lock}); with the files already extracted
 * it loads fine. So the whole native directory is extracted before the first load.
 *
 * <p>Loading also sets how the C heap, where libtorch's CPU tensors live, serves large blocks: each
 * of at least {@link #MAPPED_TENSOR_BYTES} gets a mapping of its own, given back when freed ({@link
 * NativeHeap#mapAllocationsFrom}), so a pass over hundreds of images leaves nothing resident behind
 * it. Every command and the server train with it.
 */
public final class Libtorch {

  /**
   * Tensors from this size up are mapped one by one: a test pass's feature maps (25 to 50 MB at 500
   * images in the conv VAE), not a training step's (1.6 MB at the conv preset's batch of 16, 12.8
   * MB at 128), which stay in the arenas and are reused step after step without page faults.
   */
  public static final int MAPPED_TENSOR_BYTES = 16 << 20;

  private static volatile String version;

  private Libtorch() {}

  /**
   * Extracts and loads libtorch if this process has not yet; returns libtorch's version, e.g.
   * {@code 2.10.0}.
   */
  public static String load() {
    String v = version;
    if (v != null) {
      return v;
    }
    synchronized (Libtorch.class) {
      if (version == null) {
        try {
          Loader.cacheResources(Tensor.class, Loader.getPlatform() + "/");
        } catch (IOException e) {
          throw new UncheckedIOException(
              "cannot extract libtorch into the JavaCPP cache: " + e.getMessage(), e);
        }
        Loader.load(torch.class);
        NativeHeap.mapAllocationsFrom(MAPPED_TENSOR_BYTES);
        String artifact;
        try {
          artifact = Loader.getVersion("org.bytedeco", "pytorch");
        } catch (IOException e) {
          artifact = null;
        }
        // The presets' version is "<libtorch>-<javacpp>", e.g. 2.10.0-1.5.13.
        version = artifact == null ? "unknown" : artifact.replaceFirst("-[0-9.]+$", "");
      }
      return version;
    }
  }
}
