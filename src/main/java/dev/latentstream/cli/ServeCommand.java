package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.ops.LogFormat;
import dev.latentstream.ops.Ops;
import dev.latentstream.ops.ShutdownSignals;
import dev.latentstream.server.ServerApp;
import dev.latentstream.train.Threads;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.BindException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code latentstream serve}: the live server. With no arguments it trains the default preset. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the live view, the REST API and the WebSocket stream; trains the default job unless --no-job.")
public final class ServeCommand implements Callable<Integer> {

  @Option(names = "--host", paramLabel = "HOST", description = "Interface to listen on (config default 127.0.0.1).")
  String host;

  @Option(names = "--port", paramLabel = "PORT", description = "Port (config default 8080; 0 picks a free one).")
  Integer port;

  @Option(names = "--config", paramLabel = "FILE", description = "A server config file over config/server.json.")
  Path configFile;

  @Option(names = "--job", paramLabel = "FILE", description = "Job to start (default: the config's defaultJob preset).")
  Path job;

  @Option(names = "--no-job", description = "Start idle, without training anything.")
  boolean noJob;

  @Option(names = "--epochs", paramLabel = "N", description = "Override the first job's epoch count.")
  Integer epochs;

  @Option(names = "--log-format", paramLabel = "FORMAT",
      description = "text (default) or json: one JSON object per line, for log shippers.")
  LogFormat logFormat = LogFormat.text;

  @Override
  public Integer call() throws Exception {
    if (job != null && noJob) {
      throw new UserError("--job and --no-job exclude each other");
    }
    logFormat.install(System.out);
    Logger log = Logger.getLogger("latentstream");
    String warning = Threads.environmentWarning();
    if (warning != null) {
      log.warning(warning);
    }
    CompletableFuture<String> signal = ShutdownSignals.install();
    Vertx vertx = Ops.vertx();
    ServerConfig config = null;
    ServerApp.Running running;
    JobConfig first = null;
    try {
      JsonObject overrides = new JsonObject();
      if (host != null) {
        overrides.put("host", host);
      }
      if (port != null) {
        overrides.put("port", port);
      }
      config = ServerApp.loadConfig(vertx, configFile, System.getenv(), overrides).await();
      if (!noJob) {
        Path file = job != null ? job : config.jobsDir().resolve(config.defaultJob() + ".json");
        first = JobConfigs.load(file);
        if (epochs != null) {
          first = first.withEpochs(epochs);
        }
        // Fetch the dataset now, saying so, rather than failing inside the first job.
        Datasets.ensure(first.dataset(), config.dataDir(), log::info);
      }
      running = ServerApp.start(vertx, config, first).await();
    } catch (Exception e) {
      vertx.close();
      if (config != null && isBindFailure(e)) {
        throw new UserError(portInUse(config));
      }
      throw e;
    }
    String base = "http://" + (config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host()) + ":" + running.port();
    log.info("latentstream is serving at " + base + "/");
    if (!config.host().equals("127.0.0.1") && !config.host().equals("localhost") && !config.host().equals("::1")) {
      log.info("note: listening on " + config.host() + ", not loopback: anyone who can reach this port can "
          + (config.watchRequiresToken() ? "try the token" : "watch (set watchRequiresToken to require the token)"));
    }
    if (config.token() == null) {
      log.info("control token (printed once): " + running.token());
      log.info("open, with control: " + base + "/?token=" + running.token());
    }
    if (first != null) {
      log.info("training " + first.name() + " (" + first.model().wireName() + " on " + first.dataset() + ")");
    }
    String name = signal.join();
    long t0 = System.nanoTime();
    log.info("SIG" + name + ": shutting down (no new connections; running jobs checkpoint and are marked interrupted)");
    try {
      running.close().await(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      log.warning("shutdown did not finish within " + SHUTDOWN_SECONDS + " s; quitting anyway");
    }
    log.info(String.format(Locale.ROOT, "stopped in %.2f s", (System.nanoTime() - t0) / 1e9));
    return 0;
  }

  /**
   * Within the 10 s a service manager commonly allows, with room for the JVM's own exit (about 2 s with
   * libtorch loaded, on a busy machine). A trainer still loading its data cannot stop sooner; its job is
   * marked interrupted before the wait, so the next server resumes it all the same.
   */
  static final int SHUTDOWN_SECONDS = 7;

  static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  static String portInUse(ServerConfig config) {
    return "port " + config.port() + " on " + config.host() + " is already in use; pick another with --port N "
        + "(or --port 0 for any free port) or the LATENTSTREAM_PORT environment variable";
  }
}
