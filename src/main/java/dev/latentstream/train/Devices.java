package dev.latentstream.train;

import dev.latentstream.config.ConfigException;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;

/** Resolves the job's {@code device} setting against what this libtorch build can see. */
public final class Devices {
  private Devices() {}

  public static Device resolve(String spec) {
    boolean cuda = cudaAvailable();
    return switch (spec) {
      case "auto" -> cuda ? new Device("cuda:0") : new Device(DeviceType.CPU);
      case "cpu" -> new Device(DeviceType.CPU);
      default -> {
        if (!cuda) {
          throw new ConfigException(
              "\"device\" is \""
                  + spec
                  + "\" but libtorch sees no CUDA device"
                  + " (this is the CPU build unless built with -Pgpu on a machine with CUDA); use \"auto\" or \"cpu\"");
        }
        yield new Device(spec);
      }
    };
  }

  public static boolean cudaAvailable() {
    try {
      return torch.cuda_is_available();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return false;
    }
  }

  /** CUDA devices libtorch sees; 0 on the CPU build. */
  public static int cudaDeviceCount() {
    return cudaAvailable() ? (int) torch.cuda_device_count() : 0;
  }

  public static String name(Device d) {
    return d.is_cuda() ? "cuda:" + d.index() : "cpu";
  }
}
