package dev.latentstream.server;

import dev.latentstream.bus.Addresses;
import dev.latentstream.bus.Codecs;
import dev.latentstream.bus.TrainerCommand;
import dev.latentstream.config.ConfigException;
import dev.latentstream.config.Install;
import dev.latentstream.config.JobConfig;
import dev.latentstream.config.JobConfigs;
import dev.latentstream.config.ServerConfig;
import dev.latentstream.data.Datasets;
import dev.latentstream.data.KnownDataset;
import dev.latentstream.gateway.Gateway;
import dev.latentstream.gateway.HttpVerticle;
import dev.latentstream.gateway.ServerInfo;
import dev.latentstream.gateway.TrainerWatch;
import dev.latentstream.jobs.TrainerVerticle;
import dev.latentstream.model.Libtorch;
import dev.latentstream.render.FrameRenderer;
import dev.latentstream.render.Renderers;
import dev.latentstream.train.Devices;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Wires the server: codecs, the trainer verticle (worker), the HTTP verticle, and an optional first
 * job.
 */
public final class ServerApp {

  /**
   * A started server; {@code gateway} is null on a trainer-only node, {@code trainerDeployment} on
   * a gateway-only one.
   */
  public record Running(
      Vertx vertx, ServerConfig config, Gateway gateway, String token, String trainerDeployment) {
    /** The HTTP port, or -1 on a trainer-only node. */
    public int port() {
      return gateway == null ? -1 : gateway.port();
    }

    /**
     * Stops the trainer first, then everything else. A stopping trainer still publishes (each job
     * marked interrupted, its last status): the gateway's consumers must be there to take those,
     * whereas Vert.x's own close would undeploy them first, in reverse order of deployment, and log
     * each message that then finds no consumer.
     */
    public Future<Void> close() {
      Future<Void> trainerStopped =
          trainerDeployment == null
              ? Future.succeededFuture()
              : vertx.undeploy(trainerDeployment).recover(e -> Future.succeededFuture());
      // Not compose: its future completes on an event loop, which vertx.close() has ended by then.
      Promise<Void> closed = Promise.promise();
      trainerStopped.onComplete(v -> vertx.close().onComplete(closed));
      return closed.future();
    }
  }

  private ServerApp() {}

  /**
   * Reads {@code config/server.json} (if present), then {@code extraFile}, then {@code
   * LATENTSTREAM_*} environment variables, then {@code overrides}, through vertx-config; validates
   * the result.
   */
  public static Future<ServerConfig> loadConfig(
      Vertx vertx, Path extraFile, Map<String, String> env, JsonObject overrides) {
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setIncludeDefaultStores(false);
    Path defaults = Install.resolve(Path.of("config/server.json"));
    if (Files.isRegularFile(defaults)) {
      options.addStore(
          new ConfigStoreOptions()
              .setType("file")
              .setFormat("json")
              .setConfig(new JsonObject().put("path", defaults.toString())));
    }
    if (extraFile != null) {
      if (!Files.isRegularFile(extraFile)) {
        return Future.failedFuture(new ConfigException(extraFile + ": config file not found"));
      }
      options.addStore(
          new ConfigStoreOptions()
              .setType("file")
              .setFormat("json")
              .setConfig(new JsonObject().put("path", extraFile.toString())));
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever
        .getConfig()
        .recover(
            t ->
                Future.failedFuture(
                    new ConfigException("cannot read server config: " + t.getMessage())))
        .map(
            json -> {
              retriever.close();
              JsonObject merged = ServerConfig.withEnvironment(json, env).mergeIn(overrides);
              return ServerConfig.fromJson(merged, "server config");
            });
  }

  /**
   * Starts the parts of the server the config's {@code role} asks for on {@code vertx} (clustered
   * or not): the trainer verticle (a worker) and/or {@code gatewayInstances} gateway verticles, one
   * per event loop, plus the process's {@link TrainerWatch}. {@code firstJob} (may be null) is
   * queued by a node that trains.
   */
  public static Future<Running> start(Vertx vertx, ServerConfig config, JobConfig firstJob) {
    ServerConfig.Role role = config.role();
    int instances = config.gatewayInstanceCount();
    String token = config.token() != null ? config.token() : generateToken();
    ServerConfig withToken = config.withToken(token);
    Codecs.register(vertx);
    Future<String> trainer = Future.succeededFuture();
    if (role.runsTrainer()) {
      FrameRenderer renderer = Renderers.best();
      trainer =
          vertx.deployVerticle(
              new TrainerVerticle(withToken, renderer),
              new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER));
    }
    Gateway gateway = role.runsGateway() ? new Gateway() : null;
    String[] trainerId = new String[1];
    return trainer
        .compose(
            id -> {
              trainerId[0] = id;
              if (gateway == null) {
                return Future.succeededFuture();
              }
              ServerInfo info = info(config, role);
              return vertx
                  .deployVerticle(new TrainerWatch(), new DeploymentOptions())
                  .compose(
                      w ->
                          vertx.deployVerticle(
                              () -> new HttpVerticle(withToken, info, gateway),
                              new DeploymentOptions().setInstances(instances)));
            })
        .compose(
            id ->
                firstJob == null || !role.runsTrainer()
                    ? Future.succeededFuture()
                    : vertx
                        .eventBus()
                        .request(
                            Addresses.TO_TRAINER,
                            new TrainerCommand.Start(
                                null, new JsonObject(JobConfigs.toJson(firstJob)), null),
                            new DeliveryOptions()
                                .addHeader(TrainerVerticle.FROM_OPERATOR, "true")
                                .addHeader(TrainerVerticle.DEFAULT_JOB, "true")))
        .map(v -> new Running(vertx, withToken, gateway, token, trainerId[0]));
  }

  private static ServerInfo info(ServerConfig config, ServerConfig.Role role) {
    List<String> datasets =
        KnownDataset.ALL.stream()
            .map(
                d ->
                    d.name()
                        + (Datasets.find(d.name(), config.dataDir()).isPresent()
                            ? ""
                            : " (not fetched)"))
            .toList();
    if (!role.runsTrainer()) {
      // A gateway loads no libtorch and renders nothing: the trainer node does.
      return new ServerInfo(
          version(), "on the trainer node", "on the trainer node", "on the trainer node", datasets);
    }
    return new ServerInfo(
        version(),
        Libtorch.load(),
        Devices.cudaAvailable() ? "cuda" : "cpu",
        Renderers.best().implementation(),
        datasets);
  }

  static String generateToken() {
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String version() {
    String v = ServerApp.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
