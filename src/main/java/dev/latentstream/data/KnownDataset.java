package dev.latentstream.data;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A dataset the registry knows by name: its class names, where the canonical files live and their
 * SHA-256 digests (of the {@code .gz} files as published).
 */
public record KnownDataset(
    String name,
    List<String> classNames,
    List<String> mirrors,
    Map<String, String> sha256,
    String debianPackage) {

  /**
   * The four files of an IDX dataset, in the order train images, train labels, test images, test
   * labels.
   */
  public static final List<String> FILES =
      List.of(
          "train-images-idx3-ubyte",
          "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte",
          "t10k-labels-idx1-ubyte");

  public static final KnownDataset MNIST =
      new KnownDataset(
          "mnist",
          List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
          List.of(
              "https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/",
              "http://yann.lecun.com/exdb/mnist/"),
          Map.of(
              "train-images-idx3-ubyte.gz",
                  "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
              "train-labels-idx1-ubyte.gz",
                  "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
              "t10k-images-idx3-ubyte.gz",
                  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
              "t10k-labels-idx1-ubyte.gz",
                  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
          null);

  public static final KnownDataset FASHION_MNIST =
      new KnownDataset(
          "fashion-mnist",
          List.of(
              "T-shirt/top",
              "Trouser",
              "Pullover",
              "Dress",
              "Coat",
              "Sandal",
              "Shirt",
              "Sneaker",
              "Bag",
              "Ankle boot"),
          List.of(
              "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
              "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
          Map.of(
              "train-images-idx3-ubyte.gz",
                  "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
              "train-labels-idx1-ubyte.gz",
                  "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
              "t10k-images-idx3-ubyte.gz",
                  "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
              "t10k-labels-idx1-ubyte.gz",
                  "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
          "dataset-fashion-mnist");

  public static final List<KnownDataset> ALL = List.of(MNIST, FASHION_MNIST);

  public static Optional<KnownDataset> byName(String name) {
    return ALL.stream().filter(d -> d.name.equals(name)).findFirst();
  }

  public KnownDataset withMirrors(List<String> newMirrors) {
    return new KnownDataset(name, classNames, newMirrors, sha256, debianPackage);
  }
}
