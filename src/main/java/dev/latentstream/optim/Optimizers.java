package dev.latentstream.optim;

import dev.latentstream.config.JobConfig;
import dev.latentstream.nativelib.Kernels;
import dev.latentstream.nativelib.TrainingKernels;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.RMSprop;
import org.bytedeco.pytorch.RMSpropOptions;
import org.bytedeco.pytorch.TensorVector;

/** Builds the job's optimiser over a parameter list. */
public final class Optimizers {
  private Optimizers() {}

  /**
   * As {@link #create(JobConfig.OptimizerType, TensorVector, double, JobConfig.Engine)} on the
   * {@code auto} engine.
   */
  public static Optim create(JobConfig.OptimizerType type, TensorVector parameters, double lr) {
    return create(type, parameters, lr, JobConfig.Engine.AUTO);
  }

  /**
   * Unless the engine is {@code libtorch}, Adam on CPU parameters runs as {@link FusedAdam} when
   * the native kernels are loaded; everything else is libtorch's own optimiser. Both write the same
   * checkpoint layout.
   */
  public static Optim create(
      JobConfig.OptimizerType type, TensorVector parameters, double lr, JobConfig.Engine engine) {
    if (engine != JobConfig.Engine.LIBTORCH && nativeAdam(type, parameters)) {
      return new FusedAdam(parameters, lr, Kernels.training());
    }
    return new Libtorch(
        switch (type) {
          case adam -> new Adam(parameters, new AdamOptions(lr));
          case rmsprop -> new RMSprop(parameters, new RMSpropOptions(lr));
        });
  }

  /**
   * Whether {@code create} gives the hand-written Adam for these parameters on a non-libtorch
   * engine.
   */
  public static boolean nativeAdam(JobConfig.OptimizerType type, TensorVector parameters) {
    return type == JobConfig.OptimizerType.adam
        && Kernels.training().kind() == TrainingKernels.Kind.NATIVE
        && FusedAdam.supports(parameters);
  }

  /** Whether {@code optimizer} is one of the hand-written ones. */
  public static boolean isNative(Optim optimizer) {
    return optimizer instanceof FusedAdam;
  }

  /** libtorch's optimiser behind {@link Optim}. */
  record Libtorch(Optimizer optimizer) implements Optim {
    @Override
    public void zeroGrad() {
      optimizer.zero_grad();
    }

    @Override
    public void step() {
      optimizer.step();
    }

    @Override
    public void setLearningRate(double lr) {
      Optimizers.setLearningRate(optimizer, lr);
    }

    @Override
    public double learningRate() {
      return Optimizers.learningRate(optimizer);
    }

    @Override
    public void save(org.bytedeco.pytorch.OutputArchive archive) {
      optimizer.save(archive);
    }

    /** Adam's state in either engine's former layout too (see {@link AdamState}). */
    @Override
    public void load(org.bytedeco.pytorch.InputArchive archive) {
      if (optimizer instanceof Adam) {
        TensorVector params = optimizer.param_groups().get(0).params();
        optimizer.load(AdamState.toLibtorch(archive, (int) params.size(), params.get(0).device()));
      } else {
        optimizer.load(archive);
      }
    }

    @Override
    public void close() {
      optimizer.close();
    }
  }

  /** Sets the learning rate of every parameter group; step() reads the groups, not the defaults. */
  static void setLearningRate(Optimizer optimizer, double lr) {
    for (long g = 0; g < optimizer.param_groups().size(); g++) {
      optimizer.param_groups().get(g).options().set_lr(lr);
    }
  }

  static double learningRate(Optimizer optimizer) {
    return optimizer.param_groups().get(0).options().get_lr();
  }

  public static TensorVector concat(TensorVector a, TensorVector b) {
    TensorVector all = new TensorVector();
    for (long i = 0; i < a.size(); i++) {
      all.push_back(a.get(i));
    }
    for (long i = 0; i < b.size(); i++) {
      all.push_back(b.get(i));
    }
    return all;
  }
}
