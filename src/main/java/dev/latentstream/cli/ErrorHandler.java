package dev.latentstream.cli;

import dev.latentstream.config.ConfigException;
import picocli.CommandLine;

/**
 * Turns the errors a user can cause (bad config, bad files, bad arguments) into one clear line on
 * stderr and exit code 2; anything else is a bug and keeps its stack trace (exit 1).
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(
      Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
    if (ex instanceof UserError
        || ex instanceof ConfigException
        || ex instanceof java.io.UncheckedIOException
        || ex instanceof dev.latentstream.data.DataException
        || ex instanceof dev.latentstream.rundir.Checkpoint.CheckpointException
        || ex instanceof dev.latentstream.rundir.RunLock.HeldException) {
      cl.getErr().println("latentstream: " + ex.getMessage());
      return 2;
    }
    cl.getErr().println("latentstream: internal error: " + ex);
    ex.printStackTrace(cl.getErr());
    return 1;
  }
}
