/**
 * Taking a trained model out of latentstream: a run's checkpoint as a PyTorch {@code state_dict}
 * ({@link dev.latentstream.export.TorchStateDict}, what {@code torch.load(path, weights_only=True)}
 * reads) or a safetensors file ({@link dev.latentstream.export.Safetensors}), the whole model or
 * only its decoder. Parameter names are the modules' own ({@code encoder.linear0.weight}, ...),
 * which the Python client's {@code latentstream.models} classes mirror. {@link
 * dev.latentstream.export.ModelExport} is the entry point.
 *
 * <p>Threads: everything here is blocking and runs on the caller's thread (a CLI's main thread, a
 * server's worker), never an event loop; {@link dev.latentstream.export.ModelWeights#read} builds a
 * libtorch model, copies its parameters to the Java heap and frees the model before it returns.
 */
package dev.latentstream.export;
