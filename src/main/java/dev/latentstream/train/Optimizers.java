package dev.latentstream.train;

import dev.latentstream.config.JobConfig;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.Optimizer;
import org.bytedeco.pytorch.RMSprop;
import org.bytedeco.pytorch.RMSpropOptions;
import org.bytedeco.pytorch.TensorVector;

/** Builds the job's optimiser over a parameter list and changes learning rates at run time. */
final class Optimizers {
  private Optimizers() {}

  static Optimizer create(JobConfig.OptimizerType type, TensorVector parameters, double lr) {
    return switch (type) {
      case adam -> new Adam(parameters, new AdamOptions(lr));
      case rmsprop -> new RMSprop(parameters, new RMSpropOptions(lr));
    };
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

  static TensorVector concat(TensorVector a, TensorVector b) {
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
