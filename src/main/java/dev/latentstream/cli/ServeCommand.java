package dev.latentstream.cli;

import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.ops.LogFormat;
import dev.latentstream.ops.Ops;
import dev.latentstream.ops.ShutdownSignals;
import dev.latentstream.server.Cluster;
import dev.latentstream.server.ServerApp;
import dev.latentstream.train.Threads;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.BindException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code latentstream serve}: the live server. With no arguments it trains the default preset. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Serve the live view, the REST API and the WebSocket stream; trains the default job unless --no-job.")
public final class ServeCommand implements Callable<Integer> {

  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "Interface to listen on (config default 127.0.0.1).")
  String host;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port (config default 8080; 0 picks a free one).")
  Integer port;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A server config file over config/server.json.")
  Path configFile;

  @Option(
      names = "--job",
      paramLabel = "FILE",
      description = "Job to start (default: the config's defaultJob preset).")
  Path job;

  @Option(names = "--no-job", description = "Start idle, without training anything.")
  boolean noJob;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      description = "Override the first job's epoch count.")
  Integer epochs;

  @Option(
      names = "--engine",
      paramLabel = "ENGINE",
      description =
          "libtorch, native or auto: the engine of jobs that name none (default: LATENTSTREAM_ENGINE, the config's engine, else auto).")
  String engine;

  @Option(
      names = "--log-format",
      paramLabel = "FORMAT",
      description = "text (default) or json: one JSON object per line, for log shippers.")
  LogFormat logFormat = LogFormat.text;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description =
          "Control token (default: LATENTSTREAM_TOKEN, the config's token, else a generated one).")
  String token;

  @Option(
      names = "--cluster",
      description = "Join a clustered event bus (Hazelcast, TCP-IP members, no multicast).")
  boolean cluster;

  @Option(
      names = "--role",
      paramLabel = "ROLE",
      description =
          "all (train and serve; the default), trainer (train and publish) or gateway (serve only); "
              + "trainer and gateway need --cluster.")
  String role;

  @Option(
      names = "--cluster-host",
      paramLabel = "HOST",
      description = "Interface the cluster listens on (default 127.0.0.1).")
  String clusterHost;

  @Option(
      names = "--cluster-port",
      paramLabel = "PORT",
      description = "This node's cluster port (default 5701).")
  Integer clusterPort;

  @Option(
      names = "--members",
      paramLabel = "HOST:PORT,...",
      split = ",",
      description = "The cluster's members, this node included.")
  List<String> members;

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
    ServerConfig config = config();
    Vertx vertx = clustered(config) ? joinCluster(config, log) : Ops.vertx();
    ServerApp.Running running;
    JobConfig first = null;
    try {
      first = firstJob(config, log);
      running = ServerApp.start(vertx, config, first).await();
    } catch (Exception e) {
      vertx.close();
      if (config != null && isBindFailure(e)) {
        throw new UserError(portInUse(config));
      }
      throw e;
    }
    if (!config.role().runsGateway()) {
      log.info(
          "latentstream trainer node is up" + (first == null ? "" : ", training " + first.name()));
    } else {
      announce(config, running, first, log);
    }
    return awaitSignal(signal, running, log);
  }

  /**
   * The server config: config/server.json, {@code --config}, the environment and these options;
   * refused when the role and the options do not fit together.
   */
  private ServerConfig config() throws Exception {
    // The config is read first, on a plain Vert.x: whether to cluster, and how, is in it.
    Vertx reader = Vertx.vertx();
    ServerConfig config;
    try {
      config = ServerApp.loadConfig(reader, configFile, System.getenv(), overrides()).await();
    } finally {
      reader.close();
    }
    if (config.role() != ServerConfig.Role.all && !clustered(config)) {
      throw new UserError(
          "--role "
              + config.role()
              + " needs --cluster (on its own, serve is both trainer and gateway)");
    }
    if (!config.role().runsTrainer() && (job != null || epochs != null)) {
      throw new UserError("a gateway trains nothing: --job and --epochs go to the trainer node");
    }
    return config;
  }

  /** Whether this node joins a cluster: --cluster, or members in the config. */
  private boolean clustered(ServerConfig config) {
    return cluster || !config.clusterMembers().isEmpty();
  }

  private JsonObject overrides() {
    JsonObject overrides = new JsonObject();
    putIfSet(overrides, "host", host);
    putIfSet(overrides, "port", port);
    putIfSet(overrides, "token", token);
    putIfSet(overrides, "role", role);
    putIfSet(overrides, "engine", engine);
    putIfSet(overrides, "clusterHost", clusterHost);
    putIfSet(overrides, "clusterPort", clusterPort);
    if (members != null) {
      overrides.put("clusterMembers", new JsonArray(members));
    }
    return overrides;
  }

  /** The job to start with, its dataset fetched; null with --no-job or on a gateway. */
  private JobConfig firstJob(ServerConfig config, Logger log) {
    if (noJob || !config.role().runsTrainer()) {
      return null;
    }
    Path file = job != null ? job : config.jobsDir().resolve(config.defaultJob() + ".json");
    JobConfig first = JobConfigs.load(file, config.engine());
    if (epochs != null) {
      first = first.withEpochs(epochs);
    }
    // Fetch the dataset now, saying so, rather than failing inside the first job.
    Datasets.ensure(first.dataset(), config.dataDir(), log::info);
    return first;
  }

  /** Where to look and how to control, once the gateway serves. */
  private static void announce(
      ServerConfig config, ServerApp.Running running, JobConfig first, Logger log) {
    String base =
        "http://"
            + (config.host().equals("0.0.0.0") ? "127.0.0.1" : config.host())
            + ":"
            + running.port();
    log.info("latentstream is serving at " + base + "/");
    if (!config.host().equals("127.0.0.1")
        && !config.host().equals("localhost")
        && !config.host().equals("::1")) {
      log.info(
          "note: listening on "
              + config.host()
              + ", not loopback: anyone who can reach this port can "
              + (config.watchRequiresToken()
                  ? "try the token"
                  : "watch (set watchRequiresToken to require the token)"));
    }
    if (config.token() == null) {
      log.info("control token (printed once): " + running.token());
      log.info("open, with control: " + base + "/?token=" + running.token());
    }
    if (first != null) {
      log.info(
          "training "
              + first.name()
              + " ("
              + first.model().wireName()
              + " on "
              + first.dataset()
              + ")");
    }
  }

  /** Joins the cluster the config names, with the same metrics as a single process. */
  private static Vertx joinCluster(ServerConfig config, Logger log) {
    Cluster cluster;
    try {
      cluster = new Cluster(config.clusterHost(), config.clusterPort(), config.clusterMembers());
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    long t0 = System.nanoTime();
    Vertx vertx;
    try {
      vertx = cluster.start().await();
    } catch (Exception e) {
      throw new UserError(
          "cannot join the cluster on "
              + config.clusterHost()
              + ":"
              + config.clusterPort()
              + ": "
              + e.getMessage());
    }
    log.info(
        String.format(
            Locale.ROOT,
            "joined the cluster as %s on %s:%d in %.1f s",
            config.role(),
            config.clusterHost(),
            config.clusterPort(),
            (System.nanoTime() - t0) / 1e9));
    return vertx;
  }

  private static void putIfSet(JsonObject o, String key, Object value) {
    if (value != null) {
      o.put(key, value);
    }
  }

  private static int awaitSignal(
      CompletableFuture<String> signal, ServerApp.Running running, Logger log) throws Exception {
    String name = signal.join();
    long t0 = System.nanoTime();
    log.info(
        "SIG"
            + name
            + ": shutting down (no new connections; running jobs checkpoint and are marked interrupted)");
    try {
      running.close().await(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      log.warning("shutdown did not finish within " + SHUTDOWN_SECONDS + " s; quitting anyway");
    }
    log.info(String.format(Locale.ROOT, "stopped in %.2f s", (System.nanoTime() - t0) / 1e9));
    return 0;
  }

  /**
   * Within the 10 s a service manager commonly allows, with room for the JVM's own exit (about 2 s
   * with libtorch loaded, on a busy machine). A trainer still loading its data cannot stop sooner;
   * its job is marked interrupted before the wait, so the next server resumes it all the same.
   */
  static final int SHUTDOWN_SECONDS = 7;

  static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException
          || String.valueOf(t.getMessage()).contains("Address already in use")) {
        return true;
      }
    }
    return false;
  }

  static String portInUse(ServerConfig config) {
    return "port "
        + config.port()
        + " on "
        + config.host()
        + " is already in use; pick another with --port N "
        + "(or --port 0 for any free port) or the LATENTSTREAM_PORT environment variable";
  }
}
