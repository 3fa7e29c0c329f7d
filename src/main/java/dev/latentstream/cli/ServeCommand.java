package dev.latentstream.cli;

import dev.latentstream.config.ConfigException;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.server.Cluster;
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

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "Control token (default: LATENTSTREAM_TOKEN, the config's token, else a generated one).")
  String token;

  @Option(names = "--cluster", description = "Join a clustered event bus (Hazelcast, TCP-IP members, no multicast).")
  boolean cluster;

  @Option(names = "--role", paramLabel = "ROLE", defaultValue = "all",
      description = "all (train and serve; the default), trainer (train and publish), gateway (serve only). "
          + "trainer and gateway need --cluster.")
  String role;

  @Option(names = "--cluster-host", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "Interface the cluster listens on (default 127.0.0.1).")
  String clusterHost;

  @Option(names = "--cluster-port", paramLabel = "PORT", defaultValue = "5701",
      description = "This node's cluster port (default 5701).")
  int clusterPort;

  @Option(names = "--members", paramLabel = "HOST:PORT,...", split = ",",
      description = "The cluster's members, this node included (default: this node only).")
  java.util.List<String> members = java.util.List.of();

  @Override
  public Integer call() throws Exception {
    if (job != null && noJob) {
      throw new UserError("--job and --no-job exclude each other");
    }
    String warning = Threads.environmentWarning();
    if (warning != null) {
      System.err.println("latentstream: warning: " + warning);
    }
    ServerApp.Role nodeRole = switch (role.toLowerCase(java.util.Locale.ROOT)) {
      case "all" -> ServerApp.Role.ALL;
      case "trainer" -> ServerApp.Role.TRAINER;
      case "gateway" -> ServerApp.Role.GATEWAY;
      default -> throw new UserError("--role must be all, trainer or gateway, not '" + role + "'");
    };
    if (nodeRole != ServerApp.Role.ALL && !cluster) {
      throw new UserError("--role " + role + " needs --cluster (on its own, serve is both trainer and gateway)");
    }
    if (nodeRole == ServerApp.Role.GATEWAY && (job != null || epochs != null)) {
      throw new UserError("a gateway trains nothing: --job and --epochs go to the trainer node");
    }
    Vertx vertx;
    try {
      vertx = cluster ? new Cluster(clusterHost, clusterPort, members).start().await() : Vertx.vertx();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    } catch (RuntimeException e) {
      throw new UserError("cannot join the cluster on " + clusterHost + ":" + clusterPort + ": " + e.getMessage());
    }
    if (cluster) {
      System.out.println("latentstream: joined the cluster as " + role + " on " + clusterHost + ":" + clusterPort);
    }
    try {
      JsonObject overrides = new JsonObject();
      if (token != null) {
        overrides.put("token", token);
      }
      if (host != null) {
        overrides.put("host", host);
      }
      if (port != null) {
        overrides.put("port", port);
      }
      ServerConfig config = ServerApp.loadConfig(vertx, configFile, System.getenv(), overrides)
          .await();
      JobConfig first = null;
      if (!noJob && nodeRole != ServerApp.Role.GATEWAY) {
        Path file = job != null ? job : config.jobsDir().resolve(config.defaultJob() + ".json");
        first = JobConfigs.load(file);
        if (epochs != null) {
          first = first.withEpochs(epochs);
        }
        // Fetch the dataset now, saying so, rather than failing inside the first job.
        Datasets.ensure(first.dataset(), config.dataDir(), line -> System.out.println("latentstream: " + line));
      }
      ServerApp.Running running = ServerApp.start(vertx, config, first, nodeRole,
          Math.max(1, Runtime.getRuntime().availableProcessors())).await();
      if (nodeRole == ServerApp.Role.TRAINER) {
        System.out.println("latentstream trainer node is up" + (first == null ? "" : ", training " + first.name()));
        return awaitShutdown(running);
      }
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
      return awaitShutdown(running);
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

  private static int awaitShutdown(ServerApp.Running running) throws InterruptedException {
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
  }
}
