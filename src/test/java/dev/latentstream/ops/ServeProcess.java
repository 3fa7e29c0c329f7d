package dev.latentstream.ops;

import dev.latentstream.testing.ChildProcessOutput;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code latentstream serve} as an operator runs it ({@link ChildProcessOutput}). */
final class ServeProcess extends ChildProcessOutput {

  private ServeProcess(Process process) {
    super(process);
  }

  static ServeProcess start(Path workDir, String... args) throws IOException {
    return new ServeProcess(latentstream(workDir, List.of(), args));
  }

  /** The port from "latentstream is serving at http://host:PORT/". */
  int port() throws InterruptedException {
    Matcher m =
        Pattern.compile("serving at http://[^:]+:(\\d+)/")
            .matcher(awaitLine(l -> l.contains("serving at"), 90));
    if (!m.find()) {
      throw new AssertionError("no port in the serving line");
    }
    return Integer.parseInt(m.group(1));
  }
}
