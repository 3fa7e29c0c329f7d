package dev.latentstream.optim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Tuple;
import org.bytedeco.pytorch.global.torch;

/**
 * Adam's state in a checkpoint, in one layout that both engines write and read: libtorch's own
 * ({@code torch::optim::Adam::save}), so a run moves between the hand-written Adam ({@link
 * FusedAdam}) and libtorch's, and between CPU and CUDA, where only libtorch's runs. The layout, one
 * parameter group:
 *
 * <pre>
 * pytorch_version = "1.5.0"
 * state/KEY/step = int, state/KEY/exp_avg = tensor, state/KEY/exp_avg_sq = tensor   (a KEY per parameter with state)
 * param_groups/param_groups/size = long tensor 1
 * param_groups/param_groups/0/params/size = long tensor n, .../params/I = KEY  (parameter I's key, in parameter order)
 * param_groups/param_groups/0/options/{lr, betas = (0.9, 0.999), eps, weight_decay, amsgrad}
 * </pre>
 *
 * libtorch keys parameters by their {@code TensorImpl} address when it saves and matches them by
 * position when it loads; {@link FusedAdam} writes the parameter's index as its key. Checkpoints
 * written before this layout held FusedAdam's own keys ({@code steps}, {@code lr}, {@code
 * exp_avg.I}, {@code exp_avg_sq.I}); {@link #read} converts them, and {@link #toLibtorch} turns
 * them into this layout for libtorch's Adam.
 */
final class AdamState {

  /** PyTorch's defaults, which the fused Adam uses (in float). */
  static final double BETA1 = 0.9;

  static final double BETA2 = 0.999;
  static final double EPS = 1e-8;

  private AdamState() {}

  /**
   * What one Adam holds: the learning rate, the step count, and per parameter both moments (null:
   * no state).
   */
  record Values(double lr, long step, Tensor[] expAvg, Tensor[] expAvgSq) {}

  /** Writes {@code v} in libtorch's layout with {@link FusedAdam}'s constants. */
  static void write(OutputArchive archive, Values v) {
    archive.write("pytorch_version", new IValue("1.5.0"));
    int n = v.expAvg().length;
    OutputArchive state = new OutputArchive();
    for (int i = 0; i < n; i++) {
      if (v.expAvg()[i] == null) {
        continue;
      }
      OutputArchive p = new OutputArchive();
      p.write("step", new IValue(v.step()));
      p.write("exp_avg", v.expAvg()[i]);
      p.write("exp_avg_sq", v.expAvgSq()[i]);
      state.write(Integer.toString(i), p);
    }
    archive.write("state", state);
    OutputArchive options = new OutputArchive();
    options.write("lr", new IValue(v.lr()));
    options.write("betas", new IValue(Tuple.create(new IValue(BETA1), new IValue(BETA2))));
    options.write("eps", new IValue(EPS));
    options.write("weight_decay", new IValue(0.0));
    options.write("amsgrad", new IValue(false));
    OutputArchive group = new OutputArchive();
    group.write("params/size", torch.tensor((long) n));
    for (int i = 0; i < n; i++) {
      group.write("params/" + i, new IValue(Integer.toString(i)));
    }
    group.write("options", options);
    OutputArchive groups = new OutputArchive();
    groups.write("param_groups/size", torch.tensor(1L));
    groups.write("param_groups/0", group);
    archive.write("param_groups", groups);
  }

  /** Whether {@code archive} is in the layout FusedAdam wrote before this one. */
  static boolean isFusedV1(InputArchive archive) {
    return archive.try_read("steps", new IValue());
  }

  /**
   * Reads {@code n} parameters' state from either layout; tensors the caller owns.
   *
   * @throws IllegalArgumentException when the archive holds another number of parameters, more than
   *     one group, or Adam options other than the fused Adam's (betas, eps, weight decay, amsgrad)
   */
  static Values read(InputArchive archive, int n) {
    if (isFusedV1(archive)) {
      return readFusedV1(archive, n);
    }
    InputArchive groups = new InputArchive();
    archive.read("param_groups", groups);
    Tensor count = new Tensor();
    groups.read("param_groups/size", count);
    if (count.item_long() != 1) {
      throw new IllegalArgumentException(
          "Adam state with " + count.item_long() + " parameter groups, expected 1");
    }
    InputArchive group = new InputArchive();
    groups.read("param_groups/0", group);
    Tensor size = new Tensor();
    group.read("params/size", size);
    if (size.item_long() != n) {
      throw new IllegalArgumentException(
          "Adam state for " + size.item_long() + " parameters, the model has " + n);
    }
    InputArchive options = new InputArchive();
    group.read("options", options);
    double lr = readDouble(options, "lr");
    checkOption("eps", readDouble(options, "eps"), EPS);
    checkOption("weight_decay", readDouble(options, "weight_decay"), 0);
    IValue betas = new IValue();
    options.read("betas", betas);
    var b = betas.toTupleRef().elements();
    checkOption("betas[0]", b.get(0).toDouble(), BETA1);
    checkOption("betas[1]", b.get(1).toDouble(), BETA2);
    IValue amsgrad = new IValue();
    options.read("amsgrad", amsgrad);
    if (amsgrad.toBool()) {
      throw new IllegalArgumentException(
          "Adam state with amsgrad, which the fused Adam does not do");
    }
    InputArchive state = new InputArchive();
    archive.read("state", state);
    Tensor[] m = new Tensor[n];
    Tensor[] v = new Tensor[n];
    long step = 0;
    for (int i = 0; i < n; i++) {
      IValue key = new IValue();
      group.read("params/" + i, key);
      InputArchive p = new InputArchive();
      if (!state.try_read(key.toStringRef().getString(), p)) {
        continue; // a parameter that never had a gradient has no state
      }
      IValue s = new IValue();
      p.read("step", s);
      step = Math.max(step, s.toInt());
      m[i] = new Tensor();
      v[i] = new Tensor();
      p.read("exp_avg", m[i]);
      p.read("exp_avg_sq", v[i]);
    }
    return new Values(lr, step, m, v);
  }

  private static Values readFusedV1(InputArchive archive, int n) {
    IValue s = new IValue();
    IValue l = new IValue();
    archive.read("steps", s);
    archive.read("lr", l);
    Tensor[] m = new Tensor[n];
    Tensor[] v = new Tensor[n];
    for (int i = 0; i < n; i++) {
      m[i] = new Tensor();
      v[i] = new Tensor();
      archive.read("exp_avg." + i, m[i]);
      archive.read("exp_avg_sq." + i, v[i]);
    }
    StringVector keys = archive.keys();
    if (keys.size() != 2 + 2L * n) {
      throw new IllegalArgumentException(
          "Adam state for " + (keys.size() - 2) / 2 + " parameters, the model has " + n);
    }
    return new Values(l.toDouble(), s.toInt(), m, v);
  }

  /**
   * {@code archive} as libtorch's Adam reads it: itself in libtorch's layout, else converted from
   * FusedAdam's former one (written out and read back, as archives are only read from bytes, with
   * the tensors on {@code device}, the parameters').
   */
  static InputArchive toLibtorch(InputArchive archive, int n, Device device) {
    if (!isFusedV1(archive)) {
      return archive;
    }
    Values v = readFusedV1(archive, n);
    OutputArchive out = new OutputArchive();
    write(out, v);
    Path tmp = null;
    try {
      tmp = Files.createTempFile("latentstream-adam", ".pt");
      out.save_to(tmp.toString());
      InputArchive converted = new InputArchive();
      converted.load_from(tmp.toString(), new DeviceOptional(device));
      return converted;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot convert an old Adam state: " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a temporary file left behind
        }
      }
    }
  }

  private static double readDouble(InputArchive archive, String key) {
    IValue v = new IValue();
    archive.read(key, v);
    return v.toDouble();
  }

  private static void checkOption(String name, double got, double fused) {
    if (Math.abs(got - fused) > 1e-6 * Math.abs(fused) + 1e-30) {
      throw new IllegalArgumentException(
          "Adam state with " + name + " = " + got + ", the fused Adam uses " + fused);
    }
  }
}
