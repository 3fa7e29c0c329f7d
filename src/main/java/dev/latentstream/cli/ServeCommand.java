package dev.latentstream.cli;

import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.server.ServerApp;
import dev.latentstream.train.Threads;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

  @Override
  public Integer call() throws Exception {
    if (job != null && noJob) {
      throw new UserError("--job and --no-job exclude each other");
    }
    String warning = Threads.environmentWarning();
    if (warning != null) {
      System.err.println("latentstream: warning: " + warning);
    }
    Vertx vertx = Vertx.vertx();
    try {
      JsonObject overrides = new JsonObject();
      if (host != null) {
        overrides.put("host", host);
      }
      if (port != null) {
        overrides.put("port", port);
      }
      ServerConfig config = ServerApp.loadConfig(vertx, configFile, System.getenv(), overrides)
          .await();
      JobConfig first = null;
      if (!noJob) {
        Path file = job != null ? job : config.jobsDir().resolve(config.defaultJob() + ".json");
        first = JobConfigs.load(file);
        if (epochs != null) {
          first = first.withEpochs(epochs);
        }
        // Fetch the dataset now, saying so, rather than failing inside the first job.
        Datasets.ensure(first.dataset(), config.dataDir(), line -> System.out.println("latentstream: " + line));
      }
      ServerApp.Running running = ServerApp.start(vertx, config, first).await();
      String base = "http://" + (config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host()) + ":" + running.port();
      System.out.println("latentstream is serving at " + base + "/");
      if (!config.host().equals("127.0.0.1") && !config.host().equals("localhost") && !config.host().equals("::1")) {
        System.out.println("note: listening on " + config.host() + ", not loopback: anyone who can reach this port can "
            + (config.watchRequiresToken() ? "try the token" : "watch (set watchRequiresToken to require the token)"));
      }
      if (config.token() == null) {
        System.out.println("control token (printed once): " + running.token());
        System.out.println("open, with control: " + base + "/?token=" + running.token());
      }
      if (first != null) {
        System.out.println("training " + first.name() + " (" + first.model().wireName() + " on " + first.dataset() + ")");
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        running.close().onComplete(ar -> stopped.countDown());
        try {
          stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
      stopped.await();
      return 0;
    } catch (ConfigException e) {
      vertx.close();
      throw e;
    } catch (RuntimeException e) {
      vertx.close();
      if (e.getCause() instanceof java.net.BindException || String.valueOf(e.getMessage()).contains("Address already in use")) {
        throw new UserError("cannot listen: " + e.getMessage() + " (is another server on that port? use --port)");
      }
      throw e;
    }
  }
}
