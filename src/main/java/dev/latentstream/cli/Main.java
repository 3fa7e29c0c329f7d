package dev.latentstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code latentstream} command line: one subcommand per job a user runs. */
@Command(
    name = "latentstream",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Train the autoencoder family with libtorch and watch it learn.",
    subcommands = {
      ServeCommand.class,
      TrainCommand.class,
      SweepCommand.class,
      SampleCommand.class,
      EvaluateCommand.class,
      ExportCommand.class,
      DatasetsCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(new ErrorHandler());
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"latentstream " + (v == null ? "dev" : v)};
    }
  }
}
