package dev.latentstream.train;

import static org.bytedeco.pytorch.global.torch.createCPUGenerator;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.Tensor;

/**
 * A job's CPU generator ({@link RunParts#generator}) as bytes (what {@code
 * torch.Generator.get_state()} returns in Python), so a run checkpointed mid-epoch can continue
 * drawing the very numbers it would have drawn: the reparameterisation noise of a VAE, the
 * corruption of a denoising autoencoder, the AAE's prior samples. Every job has a generator of its
 * own, so a run replays exactly whatever trains beside it.
 */
final class GeneratorState {

  static {
    dev.latentstream.model.Libtorch.load();
  }

  private GeneratorState() {}

  /** The generator's current state (5056 bytes for the CPU generator of libtorch 2.x). */
  static byte[] save(Generator g) {
    try (PointerScope scope = new PointerScope()) {
      Tensor state = g.get_state().contiguous();
      byte[] out = new byte[(int) state.numel()];
      state.data_ptr_byte().get(out);
      return out;
    }
  }

  /**
   * Whether {@code state} has the size of this libtorch's generator state (the one check libtorch
   * makes too).
   */
  static boolean fits(byte[] state) {
    try (PointerScope scope = new PointerScope()) {
      return state.length == save(createCPUGenerator()).length;
    }
  }

  /**
   * Puts the generator back into a state from {@link #save}.
   *
   * @throws IllegalArgumentException when libtorch rejects the bytes (another libtorch version,
   *     damage)
   */
  static void restore(Generator g, byte[] state) {
    try (PointerScope scope = new PointerScope()) {
      g.set_state(Tensor.create(state, false, state.length));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "libtorch rejects the saved random-generator state: " + e.getMessage(), e);
    }
  }
}
