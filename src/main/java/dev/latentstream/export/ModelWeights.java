package dev.latentstream.export;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.model.Autoencoder;
import dev.latentstream.model.TensorData;
import dev.latentstream.rundir.Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

/**
 * A model's parameters as float32 arrays on the Java heap, in the module's order, with the
 * checkpoint they came from ({@code epoch} completed epochs, {@code step} steps) and the part of
 * the model they are.
 */
public record ModelWeights(
    JobConfig job,
    int height,
    int width,
    int epoch,
    long step,
    Part part,
    List<Parameter> parameters,
    List<String> decoderModules) {

  /** The whole model, or only what decoding codes into images needs. */
  public enum Part {
    all,
    decoder
  }

  /** One parameter: its name in the module tree, its shape and its values in row-major order. */
  public record Parameter(String name, long[] shape, float[] values) {
    public long bytes() {
      return 4L * values.length;
    }
  }

  /**
   * The weights of the run's latest checkpoint (or, with {@code epoch}, of the one taken at the end
   * of that epoch).
   *
   * @throws Checkpoint.CheckpointException when there is no such checkpoint or it does not load
   */
  public static ModelWeights read(Path runDir, Integer epoch) {
    try (Checkpoint.Loaded loaded =
            epoch == null
                ? Checkpoint.loadModelWithProgress(runDir)
                : Checkpoint.loadModelAtEpoch(runDir, epoch);
        PointerScope scope = new PointerScope()) {
      return of(loaded.model(), loaded.progress().epoch(), loaded.progress().step());
    }
  }

  /**
   * The weights of one checkpoint file (an epoch's, {@code Checkpoint.epochCheckpoints}).
   *
   * @throws Checkpoint.CheckpointException when it does not load
   */
  public static ModelWeights readFile(Path checkpoint) {
    try (Checkpoint.Loaded loaded = Checkpoint.loadModelFile(checkpoint);
        PointerScope scope = new PointerScope()) {
      return of(loaded.model(), loaded.progress().epoch(), loaded.progress().step());
    }
  }

  /** The parameters of {@code model} as they are now; the model stays the caller's. */
  public static ModelWeights of(Autoencoder model, int epoch, long step) {
    List<Parameter> params = new ArrayList<>();
    try (PointerScope scope = new PointerScope()) {
      StringTensorDict named = model.named_parameters();
      for (long i = 0; i < named.size(); i++) {
        Tensor t = named.get(i).value();
        params.add(
            new Parameter(
                named.get(i).key().getString(), t.sizes().vec().get(), TensorData.floats(t)));
      }
    }
    return new ModelWeights(
        model.job(),
        model.height(),
        model.width(),
        epoch,
        step,
        Part.all,
        List.copyOf(params),
        model.decoderModules());
  }

  /** These weights, only those of {@code part}. */
  public ModelWeights only(Part wanted) {
    if (wanted == part || wanted == Part.all) {
      return this;
    }
    List<Parameter> kept =
        parameters.stream()
            .filter(p -> decoderModules.stream().anyMatch(m -> p.name().startsWith(m + ".")))
            .toList();
    return new ModelWeights(job, height, width, epoch, step, wanted, kept, decoderModules);
  }

  public long bytes() {
    return parameters.stream().mapToLong(Parameter::bytes).sum();
  }

  /**
   * What a file says about the model beyond its tensors, as strings (safetensors' {@code
   * __metadata__}): the resolved job spec, the image size, the checkpoint's epoch and step, and the
   * part.
   */
  public Map<String, String> metadata() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", "latentstream");
    m.put("version", "1");
    m.put("model", job.model().wireName());
    m.put("spec", JobConfigs.toJson(job));
    m.put("height", Integer.toString(height));
    m.put("width", Integer.toString(width));
    m.put("epoch", Integer.toString(epoch));
    m.put("step", Long.toString(step));
    m.put("part", part.name());
    return m;
  }
}
